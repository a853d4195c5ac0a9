//! `keysweep completions` loaded by a real bash, and `keysweep man` read by
//! a real man where one is installed.

use crate::support::*;
use std::process::Command;

#[test]
fn bash_loads_the_completions_and_completes_commands_and_flags() {
    let script = run(keysweep().args(["completions", "bash"]));
    assert_eq!(script.code, 0, "{}", script.stderr);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(dir.path(), "keysweep.bash", &script.stdout);
    // What `source` in ~/.bashrc does, then what bash does on TAB.
    let probe = format!(
        "source '{}' || exit 9\n\
         complete -p keysweep || exit 8\n\
         COMP_WORDS=(keysweep sc); COMP_CWORD=1; COMP_LINE='keysweep sc'; COMP_POINT=11\n\
         _keysweep keysweep sc keysweep; echo \"commands: ${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(keysweep scan --sta); COMP_CWORD=2; COMP_LINE='keysweep scan --sta'; COMP_POINT=19\n\
         _keysweep keysweep --sta scan; echo \"flags: ${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(keysweep scan --format ''); COMP_CWORD=3; COMP_LINE='keysweep scan --format '; COMP_POINT=23\n\
         _keysweep keysweep '' --format; echo \"formats: ${{COMPREPLY[*]}}\"\n",
        file.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .expect("bash runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("-F _keysweep keysweep"), "{text}");
    assert!(text.contains("commands: scan"), "{text}");
    assert!(text.contains("flags: --staged"), "{text}");
    let formats = text
        .lines()
        .find_map(|l| l.strip_prefix("formats: "))
        .unwrap_or_default();
    for f in ["text", "json", "sarif", "html", "csv"] {
        assert!(formats.split(' ').any(|x| x == f), "{f} in {formats:?}");
    }
}

#[test]
fn the_man_page_renders() {
    let page = run(keysweep().arg("man"));
    assert_eq!(page.code, 0, "{}", page.stderr);
    assert!(page.stdout.contains(".TH keysweep 1"), "{}", page.stdout);
    let dir = tempfile::tempdir().expect("temp dir");
    let r = run(keysweep()
        .args(["man", "--dir"])
        .arg(dir.path().join("man1")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let scan = dir.path().join("man1/keysweep-scan.1");
    assert!(scan.is_file(), "{}", r.stderr);
    // Where man itself is installed, it formats the page without errors.
    let formatted = Command::new("man")
        .arg("-l")
        .arg(&scan)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output();
    if let Ok(out) = formatted {
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("--staged"), "{text}");
        }
    }
}
