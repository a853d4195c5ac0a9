//! Examples and negative examples for the detector: every format DESIGN.md
//! names, and every trap.

use super::*;
use base64::Engine;

const ID: &str = "AKIA2IJB4LAJLJ6HDU6G";
const ID2: &str = "AKIADPMRCG4BE4UMR46P";
const ASIA: &str = "ASIAQM4I2HZ4UEP3ENTH";
const SECRET: &str = "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";
const SECRET2: &str = "2O76UMFxFkM+R5Kjp1vRt/1fjORS+6ilI8ihN5KX";
const TOKEN: &str = "IQoJb3JpZ2luX2VjDnkHIfxIq2HZt+PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3+YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP+tKsf2rcDkdfrUnW5gcF/Ha6ili8GjHEAD6+Wj9KfzjsQGMrb9h/ImB/LK777pzNk8cL6j5IXAAjlsHUqJoUD+/Ydua/5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK/gqv81RKMGHZEM9YpvujA+C5Q52ryFlwRlOEVHzc0X0AWIRh+JUqBlIFXZ53Ncqe28/ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhc";

/// (key ID, secret, token) of every credential found.
fn triples(text: &[u8]) -> Vec<(Option<String>, Option<String>, Option<String>)> {
    Detector::new()
        .detect(text)
        .into_iter()
        .map(|c| {
            (
                c.access_key_id.map(|p| p.value),
                c.secret_access_key.map(|p| p.value.expose().to_string()),
                c.session_token.map(|p| p.value.expose().to_string()),
            )
        })
        .collect()
}

fn pair(id: &str, secret: &str) -> (Option<String>, Option<String>, Option<String>) {
    (Some(id.into()), Some(secret.into()), None)
}

fn fill(template: &str) -> String {
    template
        .replace("{ID}", ID)
        .replace("{ID2}", ID2)
        .replace("{ASIA}", ASIA)
        .replace("{S}", SECRET)
        .replace("{S2}", SECRET2)
        .replace("{T}", TOKEN)
}

#[test]
fn pairs_in_common_formats() {
    let examples = [
        "AWS_ACCESS_KEY_ID={ID}\nAWS_SECRET_ACCESS_KEY={S}\n",
        "[default]\naws_access_key_id = {ID}\naws_secret_access_key = {S}\n",
        "{\"accessKeyId\": \"{ID}\", \"secretAccessKey\": \"{S}\"}",
        "provider \"aws\" {\n  access_key = \"{ID}\"\n  secret_key = \"{S}\"\n}\n",
        "s3 = boto3.client('s3', aws_access_key_id='{ID}', aws_secret_access_key='{S}')",
        "return credentials.NewStaticCredentialsProvider(\"{ID}\", \"{S}\", \"\")",
        "{ID}:{S}",
        "User name,Password,Access key ID,Secret access key,Console login link\nbob,,{ID},{S},https://x\n",
        "<AccessKeyId>{ID}</AccessKeyId>\n<SecretAccessKey>{S}</SecretAccessKey>",
        "DEBUG botocore.credentials: Found credentials: access_key={ID} secret_key={S}",
        "AWS_ACCESS_KEY_ID={ID}\r\nAWS_SECRET_ACCESS_KEY={S}\r\n",
        "aws_access_key_id = {ID}\n# a comment line\n\naws_secret_access_key = {S}\n",
        "!function(){var e={accessKeyId:\"{ID}\",secretAccessKey:\"{S}\"};}",
    ];
    for ex in examples {
        let text = fill(ex);
        assert_eq!(triples(text.as_bytes()), vec![pair(ID, SECRET)], "{text}");
    }
}

#[test]
fn secret_before_key_id_pairs_too() {
    let text = fill("aws_secret_access_key = {S}\naws_access_key_id = {ID}\n");
    assert_eq!(triples(text.as_bytes()), vec![pair(ID, SECRET)]);
}

#[test]
fn multi_profile_files_pair_each_key_with_its_own_secret() {
    let text = fill(
        "[default]\naws_access_key_id = {ID}\naws_secret_access_key = {S}\n\n[prod]\naws_access_key_id = {ID2}\naws_secret_access_key = {S2}\n",
    );
    assert_eq!(
        triples(text.as_bytes()),
        vec![pair(ID, SECRET), pair(ID2, SECRET2)]
    );
    let csv = fill("User name,Access key ID,Secret access key\nbob,{ID},{S}\nann,{ID2},{S2}\n");
    assert_eq!(
        triples(csv.as_bytes()),
        vec![pair(ID, SECRET), pair(ID2, SECRET2)]
    );
}

#[test]
fn session_triples() {
    let text = fill(
        "[mfa]\naws_access_key_id = {ASIA}\naws_secret_access_key = {S}\naws_session_token = {T}\n",
    );
    assert_eq!(
        triples(text.as_bytes()),
        vec![(Some(ASIA.into()), Some(SECRET.into()), Some(TOKEN.into()))]
    );
    let json = fill("{\"Credentials\": {\"AccessKeyId\": \"{ASIA}\", \"SecretAccessKey\": \"{S}\", \"SessionToken\": \"{T}==\"}}");
    assert_eq!(
        triples(json.as_bytes()),
        vec![(
            Some(ASIA.into()),
            Some(SECRET.into()),
            Some(format!("{TOKEN}=="))
        )]
    );
}

#[test]
fn key_id_alone_and_labelled_secret_alone() {
    let text = fill("\"accessKeyId\": \"{ID}\",\n\"userName\": \"mallory\"");
    assert_eq!(
        triples(text.as_bytes()),
        vec![(Some(ID.into()), None, None)]
    );
    let text = fill("aws_secret_access_key = {S}\n");
    assert_eq!(
        triples(text.as_bytes()),
        vec![(None, Some(SECRET.into()), None)]
    );
}

#[test]
fn sees_through_encodings() {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let k8s = format!(
        "data:\n  AWS_ACCESS_KEY_ID: {}\n  AWS_SECRET_ACCESS_KEY: {}\n",
        b64(ID),
        b64(SECRET)
    );
    assert_eq!(triples(k8s.as_bytes()), vec![pair(ID, SECRET)], "{k8s}");
    let blob = b64(&fill(
        "{\"aws\": {\"accessKeyId\": \"{ID}\", \"secretAccessKey\": \"{S}\"}}",
    ));
    assert_eq!(
        triples(format!("config: {blob}\n").as_bytes()),
        vec![pair(ID, SECRET)]
    );
    let percent = format!("https://x/?id={ID}&secret={}", SECRET.replace('+', "%2B"));
    assert_eq!(
        triples(percent.as_bytes()),
        vec![pair(ID, SECRET)],
        "{percent}"
    );
    let escaped =
        fill("{\"accessKeyId\":\"{ID}\",\"secretAccessKey\":\"{S2}\"}").replace('/', "\\/");
    assert_eq!(triples(escaped.as_bytes()), vec![pair(ID, SECRET2)]);
    let utf16: Vec<u8> = fill("aws_access_key_id={ID}\r\naws_secret_access_key={S}\r\n")
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert_eq!(triples(&utf16), vec![pair(ID, SECRET)]);
    let presigned = fill("https://b.s3.amazonaws.com/k?X-Amz-Credential={ASIA}%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token={T}");
    let presigned = presigned
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace("https:%2F%2F", "https://");
    let found = triples(presigned.as_bytes());
    assert_eq!(
        found,
        vec![(Some(ASIA.into()), None, Some(TOKEN.into()))],
        "{presigned}"
    );
}

#[test]
fn finds_credentials_inside_archives() {
    use std::io::Write;
    let env = fill("AWS_ACCESS_KEY_ID={ID}\nAWS_SECRET_ACCESS_KEY={S}\n");
    let mut zip_bytes = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut zip_bytes);
        z.start_file("app/.env", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(env.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    let mut tar = tar::Builder::new(Vec::new());
    let zip_bytes = zip_bytes.into_inner();
    let mut header = tar::Header::new_gnu();
    header.set_size(zip_bytes.len() as u64);
    header.set_cksum();
    tar.append_data(&mut header, "backup/conf.zip", zip_bytes.as_slice())
        .unwrap();
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let tgz = gz.finish().unwrap();
    let found = Detector::new().scan(&tgz);
    assert_eq!(found.credentials.len(), 1, "{found:?}");
    let c = &found.credentials[0];
    let names = c.member.as_ref().map(|m| m.names().to_vec());
    assert_eq!(
        names,
        Some(vec![
            "-".to_string(),
            "backup/conf.zip".into(),
            "app/.env".into()
        ])
    );
    assert_eq!(c.access_key_id.as_ref().unwrap().position.line, 1);
    assert_eq!(c.secret_access_key.as_ref().unwrap().position.line, 2);
    assert_eq!(found.archive_members, 3);
}

#[test]
fn reports_lines_and_columns() {
    let text =
        fill("# creds\nexport AWS_ACCESS_KEY_ID={ID}\nexport AWS_SECRET_ACCESS_KEY=\"{S}\"\n");
    let c = &Detector::new().detect(text.as_bytes())[0];
    let id = c.access_key_id.as_ref().unwrap().position;
    let s = c.secret_access_key.as_ref().unwrap().position;
    assert_eq!((id.line, id.column), (2, 26));
    assert_eq!((s.line, s.column), (3, 31));
    assert_eq!(&text.as_bytes()[id.offset..id.offset + 20], ID.as_bytes());
    assert_eq!(c.account_id, keyid::account_id(ID));
    assert_eq!(c.confidence, Confidence::High);
}

#[test]
fn ignores_traps() {
    let traps = [
        // AWS documentation examples and anything ending in EXAMPLE
        "AWS Access Key ID [None]: AKIAIOSFODNN7EXAMPLE\nAWS Secret Access Key [None]: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "export AWS_ACCESS_KEY_ID=AKIA53O6WRL2XEXAMPLE\nexport AWS_SECRET_ACCESS_KEY=soBYDYWBLNgqEvGEPlha/QBX9XvydzEXAMPLEKEY\n",
        // placeholders
        "AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX\nAWS_SECRET_ACCESS_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
        "AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID}\naws_secret_access_key = <your-secret-key>\n",
        "access_key     ****************JTDD shared-credentials-file\nsecret_key     ****************7A09\n",
        // not base32, lower case, glued to words, unique IDs that are not keys
        "aws_access_key_id=AKIA0000000000000000\naws_access_key_id=AKIA1234567890123456",
        "<div id=\"akiao36w3kklgc5luclv\"></div>",
        "xAKIA2IJB4LAJLJ6HDU6G AKIA2IJB4LAJLJ6HDU6GZ",
        "\"UserId\": \"AIDA2IJB4LAJLJ6HDU6G\", \"RoleId\": \"AROA2IJB4LAJLJ6HDU6G\"",
        // hashes, lockfiles, JWTs, UUIDs, PEM bodies, data URIs
        "- fix (712979e288b0c5a133711120b12edf0ab608c5c2)\naws_secret_access_key: 712979e288b0c5a133711120b12edf0ab608c5c2",
        "\"integrity\": \"sha512-CeetB1rwlZMcsFhXSm/Fa3RyzSuZ0N2t1NCvPHmPbeEU4DxpD4LHUxyxJSuBPoj3GfQepO04Ie+HygOnuBgREA==\"",
        "Authorization: Bearer eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAib2xpdmlhIn0.WNUoG6fgs0Sy0AOLigE7kkC51miDcatRlWdwQZ1zgRA",
        "kms_key_id: 3ba3538e-13d9-46af-ae44-0d2cd83a168e",
        "-----BEGIN CERTIFICATE-----\nWhbt2IGQ1rUUkACGg+9plvm0SZ8+HMi1xLLcJTViFLIgHWvyWqJf/ewiifcFvgOa\n-----END CERTIFICATE-----",
        "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\">",
        // unlabelled random strings and secrets of other services
        "\"nonce\": \"C8npLTJNBKgBS48dFuhBm1U0Q4G7wSmltB4LCDct\"",
        "github_token=0uO/4ARp8B6qOawYQRpeKoq3qS8utrZnZRvHO07C\nDJANGO_SECRET_KEY=SGd/mhwyrqwoMjOiM8J9+xvNADdpasoBgjksYEtt\n",
        "role_arn = arn:aws:iam::075693077660:role/PlanHandler\nmfa_serial = arn:aws:iam::075693077660:mfa/dave",
        // a secret that is part of a longer base64 run
        "aws_secret_access_key = PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA+PtYgjmUh",
    ];
    for t in traps {
        assert_eq!(triples(t.as_bytes()), vec![], "{t}");
    }
}

#[test]
fn inline_allow_suppresses() {
    let text = fill("AWS_ACCESS_KEY_ID={ID} # keysweep:allow\nAWS_SECRET_ACCESS_KEY={S}\n");
    let d = Detector::new().scan(text.as_bytes());
    assert!(d.credentials.is_empty());
    assert_eq!(d.suppressed_inline, 1);
}

#[test]
fn windows_find_each_credential_once_with_file_positions() {
    let line = fill("aws_access_key_id={ID}\naws_secret_access_key={S}\n");
    let filler = "x".repeat(100) + "\n";
    let text = format!("{}{line}{}", filler.repeat(30), filler.repeat(30));
    let bytes = text.as_bytes();
    let whole = Detector::new().detect(bytes);
    assert_eq!(whole.len(), 1);
    // Two overlapping windows, split inside the credential.
    let cut = 30 * 101 + 10;
    let overlap = 2000;
    let d = Detector::new();
    let first = d.scan_chunk(
        &bytes[..cut + overlap],
        0..cut,
        Position {
            offset: 0,
            line: 1,
            column: 1,
        },
    );
    let second_start = cut - overlap;
    let line_at = 1 + bytes[..second_start]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32;
    let col_at = 1
        + (second_start
            - bytes[..second_start]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)) as u32;
    let second = d.scan_chunk(
        &bytes[second_start..],
        overlap..bytes.len() - second_start,
        Position {
            offset: second_start,
            line: line_at,
            column: col_at,
        },
    );
    let mut all = first.credentials;
    all.extend(second.credentials);
    assert_eq!(all, whole);
}

#[test]
fn many_prefixes_stay_linear() {
    // A hostile file: a million key-ID prefixes. Must finish quickly and find nothing.
    let text = "AKIA ".repeat(1_000_000);
    assert!(triples(text.as_bytes()).is_empty());
    let text = "AKIA2IJB4LAJLJ6HDU6G\n".repeat(50_000);
    assert_eq!(triples(text.as_bytes()).len(), 50_000);
}

#[test]
fn debug_of_a_detection_never_shows_a_secret() {
    // `{:?}` ends up in logs and panic messages: it must redact like Display.
    let text =
        fill("aws_access_key_id = {ASIA}\naws_secret_access_key = {S}\naws_session_token = {T}\n");
    let detection = Detector::new().scan(text.as_bytes());
    assert_eq!(detection.credentials.len(), 1);
    let shown = format!("{detection:?} {detection:#?}");
    assert!(shown.contains(ASIA), "key IDs are not secret: {shown}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains(&SECRET[4..]), "{shown}");
    assert!(!shown.contains(&TOKEN[16..60]), "{shown}");
}

#[test]
fn encoded_prefixes_and_long_lines_stay_linear() {
    // Each of these took time quadratic in its size before (minutes in a
    // debug build at these sizes); found while building hostile inputs.
    let started = std::time::Instant::now();
    // Many short base64 runs holding a key-ID prefix: each run was checked
    // against a list of every earlier one.
    let text = "QUtJQ\n".repeat(200_000);
    assert!(triples(text.as_bytes()).is_empty());
    // One long base64 run: every prefix fragment in it expanded and decoded
    // the whole run again; the same for UTF-16 prefixes in ASCII text.
    let text = "QUtJQ".repeat(200_000);
    assert!(triples(text.as_bytes()).is_empty());
    let text = "A\0K\0I\0A\0x".repeat(200_000);
    assert!(triples(text.as_bytes()).is_empty());
    // Many labelled secrets on one line: each label lookup searched back to
    // the start of the line.
    let text = format!("aws_secret_access_key={SECRET} ").repeat(20_000);
    assert_eq!(triples(text.as_bytes()).len(), 20_000);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn utf16_text_after_a_long_ascii_stretch_is_decoded() {
    // A UTF-16 run was cut out of the ASCII around its anchor starting up to
    // 16 KiB before it, so a key in UTF-16 after 16 KiB of ASCII was missed.
    let wide: Vec<u8> = fill("aws_access_key_id={ID}\r\naws_secret_access_key={S}\r\n")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    for ascii in [100, 20 << 10, 40 << 10] {
        let mut text = "x".repeat(ascii).into_bytes();
        text.push(b'\n');
        text.extend(&wide);
        assert_eq!(
            triples(&text),
            vec![pair(ID, SECRET)],
            "after {ascii} bytes"
        );
    }
}
