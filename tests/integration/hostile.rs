//! Hostile input: archives built to exhaust memory, files built to exhaust
//! time, trees built to exhaust the walker. Every case must finish, say on
//! stderr what it did not scan, keep scanning the rest (a real credential
//! in a sibling file is still found) and stay in bounded memory.
//!
//! Everything is generated at test time (sparse files cost no disk); the
//! limits checked here are the ones docs/limits.md documents.

use crate::support::*;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// GNU time, to measure the child's peak RSS. CI machines may lack it: the
/// memory assertions are then skipped with a message, never failed.
const GNU_TIME: &str = "/usr/bin/time";

/// One measured scan.
struct Measured {
    run: Run,
    /// Peak resident set size of the keysweep process, in KiB.
    peak_kib: Option<u64>,
    elapsed: Duration,
}

impl Measured {
    /// Asserts the peak RSS stayed under `mib`, when it could be measured.
    fn assert_memory_under(&self, mib: u64, case: &str) {
        match self.peak_kib {
            Some(kib) => assert!(
                kib < mib << 10,
                "{case}: peak RSS {} MiB is over the {mib} MiB bound",
                kib >> 10
            ),
            None => eprintln!("{case}: {GNU_TIME} is not available, peak memory not checked"),
        }
    }

    fn report(&self, case: &str) {
        eprintln!(
            "{case}: {:.1} s, peak RSS {}",
            self.elapsed.as_secs_f64(),
            self.peak_kib
                .map_or("not measured".to_string(), |k| format!("{} MiB", k >> 10))
        );
    }
}

fn gnu_time_works() -> bool {
    std::process::Command::new(GNU_TIME)
        .args(["-f", "%M", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `keysweep scan <args> --format json`, under GNU time when present.
fn scan_measured(args: &[&OsStr]) -> Measured {
    measured("scan", args)
}

/// `keysweep <command> <args> --format json`, under GNU time when present.
fn measured(command: &str, args: &[&OsStr]) -> Measured {
    let keysweep = keysweep();
    let exe = keysweep.get_program().to_owned();
    let rss_file = tempfile::NamedTempFile::new().expect("temp file");
    let mut cmd = if gnu_time_works() {
        let mut c = std::process::Command::new(GNU_TIME);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(rss_file.path())
            .arg(exe);
        c
    } else {
        std::process::Command::new(exe)
    };
    cmd.env_remove("NO_COLOR")
        .arg(command)
        .args(args)
        .args(["--format", "json", "--no-progress"]);
    let started = Instant::now();
    let run = run(&mut cmd);
    let elapsed = started.elapsed();
    let peak_kib = std::fs::read_to_string(rss_file.path())
        .ok()
        .and_then(|s| s.lines().last()?.trim().parse().ok());
    Measured {
        run,
        peak_kib,
        elapsed,
    }
}

/// Plants the credential every case must still find.
fn plant_sibling(dir: &Path) {
    write(dir, "sibling/.env", env_file(KEY_ID, SECRET));
}

fn assert_sibling_found(r: &Run, case: &str) {
    assert_eq!(r.code, 1, "{case}: {}", r.stderr);
    let found = r.findings();
    assert!(
        found.iter().any(|f| f["path"] == "sibling/.env"
            && f["access_key_id"]["value"] == KEY_ID
            && f["confidence"] == "high"),
        "{case}: the sibling credential was not found: {:?}\nstderr: {}",
        paths(&found),
        r.stderr
    );
}

/// Writes deflate's fixed-Huffman codes, least significant bit first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    used: u32,
}

impl Bits {
    fn put(&mut self, value: u64, len: u32) {
        self.acc |= value << self.used;
        self.used += len;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    /// Huffman codes are packed most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        self.put(u64::from(code.reverse_bits() >> (32 - len)), len);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A raw deflate stream that inflates to `len` zero bytes: one literal,
/// then copies of 258 bytes at distance 1, 13 bits each (deflate's best
/// ratio, about 1:1000). Written by hand because compressing gigabytes in
/// a debug build would take minutes.
fn deflate_zeros(len: u64) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(1, 1); // last block
    b.put(1, 2); // fixed Huffman codes
    b.code(0x30, 8); // literal 0
    let mut left = len - 1;
    while left >= 258 {
        b.code(0xC5, 8); // length code 285: 258 bytes
        b.code(0, 5); // distance code 0: 1 byte back
        left -= 258;
    }
    for _ in 0..left {
        b.code(0x30, 8);
    }
    b.code(0, 7); // end of block
    b.finish()
}

/// A gzip file that inflates to `len` zeros. Its trailer's CRC is not
/// computed: a reader that honours the limits stops long before it.
fn gzip_bomb(len: u64) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(deflate_zeros(len));
    out.extend(0u32.to_le_bytes());
    out.extend((len as u32).to_le_bytes());
    out
}

/// An overlapping zip bomb: `entries` central-directory entries that all
/// point at one deflated member of `member_len` zeros, so a small file
/// claims `entries * member_len` bytes.
fn zip_bomb(entries: u16, member_len: u32) -> Vec<u8> {
    let data = deflate_zeros(u64::from(member_len));
    let name = b"bomb-0";
    let mut z = Vec::new();
    let u16le = |z: &mut Vec<u8>, v: u16| z.extend(v.to_le_bytes());
    let u32le = |z: &mut Vec<u8>, v: u32| z.extend(v.to_le_bytes());
    // Local file header, then the data.
    u32le(&mut z, 0x0403_4b50);
    for v in [20, 0, 8, 0, 0x21] {
        u16le(&mut z, v); // version, flags, deflate, time, date
    }
    u32le(&mut z, 0); // CRC: never reached (see gzip_bomb)
    u32le(&mut z, data.len() as u32);
    u32le(&mut z, member_len);
    u16le(&mut z, name.len() as u16);
    u16le(&mut z, 0);
    z.extend(name);
    z.extend(&data);
    let cd_start = z.len() as u32;
    for i in 0..entries {
        let name = format!("bomb-{i}");
        u32le(&mut z, 0x0201_4b50);
        for v in [20, 20, 0, 8, 0, 0x21] {
            u16le(&mut z, v); // made by, needed, flags, deflate, time, date
        }
        u32le(&mut z, 0);
        u32le(&mut z, data.len() as u32);
        u32le(&mut z, member_len);
        u16le(&mut z, name.len() as u16);
        for v in [0, 0, 0, 0] {
            u16le(&mut z, v); // extra, comment, disk, internal attributes
        }
        u32le(&mut z, 0); // external attributes
        u32le(&mut z, 0); // every entry points at the one local header
        z.extend(name.as_bytes());
    }
    let cd_len = z.len() as u32 - cd_start;
    u32le(&mut z, 0x0605_4b50);
    for v in [0, 0, entries, entries] {
        u16le(&mut z, v);
    }
    u32le(&mut z, cd_len);
    u32le(&mut z, cd_start);
    u16le(&mut z, 0);
    z
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

#[test]
fn the_bomb_builders_make_what_they_claim() {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(&deflate_zeros(100_000)[..])
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out.len(), 100_000);
    assert!(out.iter().all(|&b| b == 0));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bomb(3, 5000))).unwrap();
    assert_eq!(zip.len(), 3);
    let mut member = Vec::new();
    zip.by_index(2).unwrap().read_to_end(&mut member).ok();
    assert_eq!(member.len(), 5000);
}

#[test]
fn zip_bomb_is_read_within_the_archive_limits() {
    let dir = tempfile::tempdir().unwrap();
    // 40 entries of 1 GiB each: 40 GiB claimed, in about 6 MB.
    let bomb = zip_bomb(40, 1 << 30);
    assert!(bomb.len() < 8 << 20);
    write(dir.path(), "bomb.zip", &bomb);
    plant_sibling(dir.path());
    let m = scan_measured(&[dir.path().as_os_str()]);
    m.report("zip bomb");
    assert_sibling_found(&m.run, "zip bomb");
    let err = &m.run.stderr;
    assert!(
        err.contains("bomb.zip: archive member bomb-0 was scanned only up to 67108864 bytes"),
        "{err}"
    );
    assert!(
        err.contains("bomb.zip: zip archive has more members than were scanned (4 of 40)"),
        "the 256 MiB archive budget stops it: {err}"
    );
    assert_eq!(m.run.json()["stats"]["archive_members"], 4);
    m.assert_memory_under(512, "zip bomb");
}

#[test]
fn gzip_bomb_is_read_within_the_member_limit() {
    let dir = tempfile::tempdir().unwrap();
    // 1 GiB of zeros in about 6 MB, wrapped in a second gzip: the bomb is
    // opened one level down.
    write(dir.path(), "bomb.gz.gz", gzip(&gzip_bomb(1 << 30)));
    plant_sibling(dir.path());
    let m = scan_measured(&[dir.path().as_os_str()]);
    m.report("gzip bomb");
    assert_sibling_found(&m.run, "gzip bomb");
    let err = &m.run.stderr;
    assert!(
        err.contains("bomb.gz.gz: archive member - was scanned only up to 67108864 bytes"),
        "{err}"
    );
    m.assert_memory_under(512, "gzip bomb");
}

#[test]
fn deeply_nested_archives_stop_at_the_depth_limit() {
    let dir = tempfile::tempdir().unwrap();
    let inner = env_file(KEY_ID_2, SECRET_2).into_bytes();
    let mut nested = inner.clone();
    for _ in 0..20 {
        nested = gzip(&nested);
    }
    write(dir.path(), "twenty.gz", &nested);
    // Three levels are opened: a credential there is found.
    write(dir.path(), "three.gz", gzip(&gzip(&gzip(&inner))));
    plant_sibling(dir.path());
    let m = scan_measured(&[dir.path().as_os_str()]);
    m.report("nested archives");
    assert_sibling_found(&m.run, "nested archives");
    let findings = m.run.findings();
    assert!(
        findings
            .iter()
            .any(|f| f["path"] == "three.gz" && f["member"] == serde_json::json!(["-", "-", "-"])),
        "{findings:?}"
    );
    let found = paths(&findings);
    assert!(
        !found.iter().any(|p| p.starts_with("twenty.gz")),
        "{found:?}"
    );
    assert!(
        m.run
            .stderr
            .contains("twenty.gz: archive nested deeper than 3 levels was not opened"),
        "{}",
        m.run.stderr
    );
    m.assert_memory_under(256, "nested archives");
}

/// A sparse file of `size` zero bytes with no newline, with a credential
/// written (on the same line) `tail` bytes before its end.
fn sparse_one_line(path: &Path, size: u64, tail: u64) -> u64 {
    let mut f = File::create(path).unwrap();
    f.set_len(size).unwrap();
    let at = size - tail;
    f.seek(SeekFrom::Start(at)).unwrap();
    write!(
        f,
        " aws_access_key_id={KEY_ID_2} aws_secret_access_key={SECRET_2} "
    )
    .unwrap();
    at
}

#[test]
fn huge_one_line_file_is_skipped_by_default_and_scanned_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 2 GiB on one line, over the default --max-file-size: skipped, named,
    // counted; alone it makes exit code 2.
    let huge: u64 = 2 << 30;
    sparse_one_line(&d.join("huge.log"), huge, 1 << 20);
    plant_sibling(d);
    let m = scan_measured(&[d.join("huge.log").as_os_str()]);
    assert_eq!(m.run.code, 2, "{}", m.run.stderr);
    assert!(
        m.run.stderr.contains(&format!(
            "huge.log: skipped, {huge} bytes is over --max-file-size"
        )),
        "{}",
        m.run.stderr
    );
    assert_eq!(m.run.json()["stats"]["skipped_too_large"], 1);
    let m = scan_measured(&[d.as_os_str()]);
    assert_sibling_found(&m.run, "huge file, default limit");
    assert!(
        m.run.stderr.contains("huge.log: skipped"),
        "{}",
        m.run.stderr
    );
    std::fs::remove_file(d.join("huge.log")).unwrap();

    // With the limit raised it is read window by window. A debug build
    // scans about 10 MB/s, so this part uses 64 MiB (four 16 MiB windows):
    // memory is bounded by the window, not the file, so a peak well under
    // the file's size shows the same as 2 GiB would (docs/limits.md).
    let size: u64 = 64 << 20;
    let at = sparse_one_line(&d.join("long.log"), size, 5 << 20);
    let m = scan_measured(&[
        d.as_os_str(),
        OsStr::new("--max-file-size"),
        OsStr::new("3G"),
        OsStr::new("--threads"),
        OsStr::new("1"),
    ]);
    m.report("64 MiB one-line file");
    assert_sibling_found(&m.run, "long file, raised limit");
    let long: Vec<_> = m
        .run
        .findings()
        .into_iter()
        .filter(|f| f["path"] == "long.log")
        .collect();
    assert_eq!(long.len(), 1, "{}", m.run.stderr);
    assert_eq!(long[0]["access_key_id"]["value"], KEY_ID_2);
    assert_eq!(long[0]["access_key_id"]["line"], 1);
    assert_eq!(long[0]["access_key_id"]["column"], at + 1 + 19);
    assert_eq!(
        m.run.json()["stats"]["bytes"].as_u64(),
        Some(size + env_file(KEY_ID, SECRET).len() as u64)
    );
    // One 16 MiB window plus its overlap, whatever the file size.
    m.assert_memory_under(48, "64 MiB one-line file");
}

#[test]
fn millions_of_key_id_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Prefixes glued to each other, prefixes followed by near misses, and
    // base64 and UTF-16 forms of a prefix: each hit starts the exact checks.
    let mut body = Vec::with_capacity(40 << 20);
    body.extend(b"AKIA".repeat(2_000_000));
    body.push(b'\n');
    body.extend(b"AKIA0000000000000000 ".repeat(100_000));
    body.push(b'\n');
    body.extend(b"QUtJQ QUtJQ\n".repeat(100_000));
    body.extend(b"A\0K\0I\0A\0 ".repeat(100_000));
    body.extend(
        format!("\naws_access_key_id={KEY_ID_2}\naws_secret_access_key={SECRET_2}\n").bytes(),
    );
    let size = body.len();
    write(d, "prefixes.txt", &body);
    drop(body);
    plant_sibling(d);
    let m = scan_measured(&[d.as_os_str()]);
    m.report("millions of AKIA prefixes");
    assert_sibling_found(&m.run, "prefixes");
    let found = m.run.findings();
    assert_eq!(
        paths(&found),
        vec!["prefixes.txt", "sibling/.env"],
        "no prefix became a finding"
    );
    assert_eq!(
        m.run.json()["stats"]["bytes"].as_u64(),
        Some((size + env_file(KEY_ID, SECRET).len()) as u64)
    );
    assert!(
        m.elapsed < Duration::from_secs(60),
        "prefixes took {:?}",
        m.elapsed
    );
    m.assert_memory_under(160, "prefixes");
}

#[test]
fn a_blob_of_key_ids_reports_the_first_thousand_and_counts_the_rest() {
    // Issue 20.3: an 81 KB .gz of key-ID lines took 1.78 GB (a finding
    // each). One blob now contributes at most 1,000 findings; the rest are
    // counted, and the file is named. Two sizes: the same 1,000, a count
    // that grows with the input, memory that does not.
    let mut peaks = Vec::new();
    for lines in [100_000usize, 400_000] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let body = format!("{KEY_ID_2}\n").repeat(lines);
        write(d, "keys.gz", gzip(body.as_bytes()));
        plant_sibling(d);
        let m = scan_measured(&[d.as_os_str()]);
        m.report(&format!("{lines} key IDs in a .gz"));
        assert_sibling_found(&m.run, "key IDs");
        let found = m.run.findings();
        let in_gz = found.iter().filter(|f| f["path"] == "keys.gz").count();
        assert_eq!(in_gz, 1000, "{lines}");
        assert_eq!(
            m.run.json()["stats"]["findings_over_limit"].as_u64(),
            Some(lines as u64 - 1000)
        );
        assert!(
            m.run
                .stderr
                .contains("keys.gz: more than 1000 credentials; the first 1000 are reported"),
            "{}",
            m.run.stderr
        );
        m.assert_memory_under(160, "key IDs");
        peaks.push(m.peak_kib);
    }
    if let [Some(small), Some(large)] = peaks[..] {
        assert!(large < small * 2, "memory grew from {small} to {large} KiB");
    }
}

#[test]
fn a_directory_of_100k_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 0..100 {
        let sub = d.join(format!("d{i:03}"));
        std::fs::create_dir(&sub).unwrap();
        for j in 0..1000 {
            std::fs::write(sub.join(format!("f{j:04}")), b"x\n").unwrap();
        }
    }
    plant_sibling(d);
    let m = scan_measured(&[d.as_os_str()]);
    m.report("100k files");
    assert_sibling_found(&m.run, "100k files");
    assert_eq!(m.run.json()["stats"]["files"], 100_001);
    m.assert_memory_under(256, "100k files");
}

#[test]
fn symlink_cycles_finish_and_are_named() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("a/b")).unwrap();
    symlink("../..", d.join("a/b/up")).unwrap(); // a directory cycle
    symlink("ping", d.join("pong")).unwrap(); // a two-link cycle
    symlink("pong", d.join("ping")).unwrap();
    symlink("self", d.join("self")).unwrap();
    plant_sibling(d);
    let m = scan_measured(&[d.as_os_str()]);
    m.report("symlink cycles");
    assert_sibling_found(&m.run, "symlink cycles");
    // Links to directories are never followed: the sibling is found once.
    assert_eq!(m.run.findings().len(), 1);
    for name in ["ping", "pong", "self"] {
        assert!(
            m.run
                .stderr
                .contains(&format!("{name}: broken symbolic link")),
            "{name}: {}",
            m.run.stderr
        );
    }
    assert_eq!(m.run.json()["stats"]["unreadable"], 3);
    m.assert_memory_under(128, "symlink cycles");
}

/// A repository holding a 500 MB blob: the blob is named and skipped without
/// being inflated, the rest of the history is scanned.
#[test]
fn a_repository_with_a_500_mb_blob() {
    let s = crate::gitutil::Scratch::new();
    let repo = s.init("big", &[]);
    // Sparse zeros: no disk for the file, and git stores them in ~500 KB.
    let big = std::fs::File::create(repo.path.join("big.bin")).expect("create");
    big.set_len(500_000_000).expect("size");
    drop(big);
    repo.write("sibling/.env", &env_file(KEY_ID, SECRET));
    repo.commit("a huge blob and a credential");
    let m = measured("git", &[repo.path.as_os_str()]);
    m.report("500 MB blob");
    assert_sibling_found(&m.run, "500 MB blob");
    assert_eq!(m.run.json()["stats"]["skipped_too_large"], 1);
    assert!(
        m.run.stderr.contains("big.bin") && m.run.stderr.contains("500000000 bytes"),
        "{}",
        m.run.stderr
    );
    m.assert_memory_under(100, "500 MB blob");
}

#[test]
fn a_tree_deeper_than_the_cap_is_named_and_fails_a_range_scan() {
    // Issue 20.5: 20,000 levels overflowed the stack (no report at all).
    // Trees deeper than 4,096 levels are not walked: a full scan still
    // scans every blob (it reads the object database) and reports the key
    // by blob id; a range scan cannot see it and says so with exit code 2.
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(d)
            .env("HOME", d)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("run git")
    };
    assert!(git(&["init", "-q", "-b", "main"]).wait().unwrap().success());
    let body = format!("aws_access_key_id = {KEY_ID}\n");
    let script = format!(
        "commit refs/heads/main\nmark :1\ncommitter T <t@example.com> 1700000000 +0000\ndata 1\nc\nM 100644 inline README\ndata 3\nhi\n\n\
         commit refs/heads/main\nmark :2\ncommitter T <t@example.com> 1700000060 +0000\ndata 1\nd\nfrom :1\nM 100644 inline {}k.env\ndata {}\n{body}\n",
        "d/".repeat(4_200),
        body.len()
    );
    let mut import = git(&["fast-import", "--quiet"]);
    import
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(import.wait().unwrap().success());

    let range = measured(
        "git",
        &[
            d.as_os_str(),
            OsStr::new("--range"),
            OsStr::new("main~1..main"),
        ],
    );
    assert_eq!(range.run.code, 2, "{}", range.run.stderr);
    assert!(range.run.findings().is_empty());
    assert_eq!(
        range.run.json()["stats"]["trees_too_deep"].as_u64(),
        Some(1)
    );
    assert!(
        range.run.stderr.contains(
            "trees are nested deeper than 4096 levels; changes below that depth are not scanned"
        ),
        "{}",
        range.run.stderr
    );

    let full = measured("git", &[d.as_os_str()]);
    assert_eq!(full.run.code, 1, "{}", full.run.stderr);
    let found = full.run.findings();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["access_key_id"]["value"], KEY_ID);
    assert!(
        full.run
            .stderr
            .contains("blobs below that depth are not attributed"),
        "{}",
        full.run.stderr
    );
    full.assert_memory_under(100, "deep tree");
}
