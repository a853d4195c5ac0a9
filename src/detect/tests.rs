//! Examples and negative examples for the detector: every format DESIGN.md
//! names, and every trap.

use super::*;
use crate::finding::Signing;
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
    // Past the first MAX_FINDINGS_PER_BLOB, each is counted, not kept.
    let text = "AKIA2IJB4LAJLJ6HDU6G\n".repeat(50_000);
    let found = Detector::new().scan(text.as_bytes());
    assert_eq!(found.credentials.len(), MAX_FINDINGS_PER_BLOB);
    assert_eq!(found.over_limit, 50_000 - MAX_FINDINGS_PER_BLOB as u64);
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
    let found = Detector::new().scan(text.as_bytes());
    assert_eq!(found.credentials.len() as u64 + found.over_limit, 20_000);
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

/// What the detector reports for a file holding only a labelled secret.
fn lone(secret: &str) -> Vec<(Option<String>, Option<String>, Option<String>)> {
    vec![(None, Some(secret.into()), None)]
}

#[test]
fn secret_names_in_more_syntaxes() {
    // Issue 16.2: no key ID near, so only the name can say "AWS secret".
    let examples = [
        // XML, the value alone on its line between the tags.
        "<Credentials>\n  <SecretAccessKey>\n    {S}\n  </SecretAccessKey>\n</Credentials>\n",
        "<aws_secret_access_key>\r\n{S}\r\n</aws_secret_access_key>\r\n",
        "<entry key=\"aws.secretKey\">\n\t{S}\n</entry>\n",
        // Makefile assignment operators.
        "AWS_SECRET_ACCESS_KEY ?= {S}\n",
        "export AWS_SECRET_ACCESS_KEY += {S}\n",
        "AWS_SECRET_ACCESS_KEY::={S}\n",
        "AWS_SECRET_ACCESS_KEY!={S}\n",
        // JSON written as an escaped string inside a string literal.
        "const body = \"{\\\"awsSecretKey\\\":\\\"{S}\\\"}\";\n",
        "String json = \"{\\\"aws_secret_access_key\\\": \\\"{S}\\\", \\\"region\\\": \\\"eu-west-1\\\"}\";\n",
        "payload := \"{\\\\\\\"SecretAccessKey\\\\\\\":\\\\\\\"{S}\\\\\\\"}\"\n",
        // Punctuation and string prefixes between the name and the value.
        "aws_secret_access_key = r'{S}'\n",
        "awsSecretKey = @\"{S}\";\n",
        "$awsSecretKey = $\"{S}\";\n",
        "ENV[\"AWS_SECRET_ACCESS_KEY\"] = \"{S}\"\n",
        "aws_secret_access_key: ['{S}']\n",
        "let aws_secret_access_key = r#\"{S}\"#;\n",
        "const char* aws_secret_key = R\"({S})\";\n",
        "aws_secret_access_key = [[{S}]]\n",
        "my %c = (aws_secret_access_key => '{S}');\n",
        "{:aws-secret-key \"{S}\"}\n",
        "ENV AWS_SECRET_ACCESS_KEY {S}\n",
        "AWSSecretKey=\"{S}\";Region=eu-west-1\n",
        "**AWS_SECRET_ACCESS_KEY**: `{S}`\n",
        "AWS_SECRET_ACCESS_KEY = &quot;{S}&quot;\n",
        "\"aws_secret_access_key\": \"\" + \"{S}\",\n",
        // The value on the line after an assignment.
        "aws_secret_access_key = (\n    \"{S}\"\n)\n",
        "aws_secret_access_key: |\n  {S}\n",
        "aws_secret_access_key: >-\n\n  {S}\n",
        "export AWS_SECRET_ACCESS_KEY=\\\n  {S}\n",
    ];
    for ex in examples {
        let text = fill(ex);
        assert_eq!(triples(text.as_bytes()), lone(SECRET), "{text}");
    }
}

#[test]
fn names_that_do_not_name_an_aws_secret() {
    let examples = [
        // A closing tag above is the end of another element.
        "<AccessKeyId>x</AccessKeyId>\n{S}\n",
        "<br/>\n{S}\n",
        // Block scalars and prefixes of other names.
        "description: |\n  {S}\n",
        "\"nonce\": r'{S}'\n",
        "GITHUB_TOKEN ?= {S}\n",
        "const body = \"{\\\"nonce\\\":\\\"{S}\\\"}\";\n",
        // Prose above, with no assignment at its end.
        "Here is the AWS secret access key we talked about\n{S}\n",
    ];
    for ex in examples {
        let text = fill(ex);
        assert_eq!(triples(text.as_bytes()), vec![], "{text}");
    }
}

/// `text` with every character of `what` written as `escape(char)`.
fn escaped(text: &str, what: &str, escape: impl Fn(char) -> String) -> String {
    text.replace(what, &what.chars().map(escape).collect::<String>())
}

#[test]
fn sees_through_unicode_escapes_and_html_references() {
    // Issue 16.3: a key ID spelled out in escapes, and secrets with escaped
    // characters, are found and reported at the start of the escaped run.
    let plain = fill("{\"accessKeyId\": \"{ID}\", \"secretAccessKey\": \"{S2}\"}");
    let cases: Vec<(String, Encoding)> = vec![
        (
            escaped(&plain, ID, |c| format!("\\u{:04X}", c as u32)),
            Encoding::Escaped,
        ),
        (
            escaped(&plain, ID, |c| format!("\\u{:04x}", c as u32)),
            Encoding::Escaped,
        ),
        (
            escaped(&plain, ID, |c| format!("\\u{{{:x}}}", c as u32)),
            Encoding::Escaped,
        ),
        (
            escaped(&plain, ID, |c| format!("&#x{:X};", c as u32)),
            Encoding::Html,
        ),
        (
            escaped(&plain, ID, |c| format!("&#{};", c as u32)),
            Encoding::Html,
        ),
    ];
    for (text, encoding) in cases {
        let found = Detector::new().detect(text.as_bytes());
        assert_eq!(found.len(), 1, "{text}");
        let id = found[0].access_key_id.as_ref().unwrap();
        assert_eq!(id.value, ID, "{text}");
        assert_eq!(id.encoding, Some(encoding), "{text}");
        // Reported where the escaped run starts.
        assert_eq!(id.position.offset, text.find("accessKeyId").unwrap() + 15);
        assert_eq!(id.position.column as usize, id.position.offset + 1);
        let secret = found[0].secret_access_key.as_ref().unwrap();
        assert_eq!(secret.value.expose(), SECRET2);
    }
    // A whole snippet as HTML character references (a page that escapes
    // everything it shows).
    let snippet = fill("aws_access_key_id = {ID}\naws_secret_access_key = {S}\n");
    let page = format!(
        "<pre>{}</pre>",
        snippet
            .chars()
            .map(|c| format!("&#{};", c as u32))
            .collect::<String>()
    );
    assert_eq!(triples(page.as_bytes()), vec![pair(ID, SECRET)], "{page}");
    // Secrets with escaped `/`, `+` and `=` in each notation.
    for (slash, plus) in [
        ("\\u{2f}", "\\u{2b}"),
        ("\\x2F", "\\x2B"),
        ("&#x2F;", "&#x2B;"),
        ("&#47;", "&#43;"),
        ("&sol;", "&plus;"),
    ] {
        let text = format!(
            "aws_secret_access_key = \"{}\"",
            SECRET2.replace('/', slash).replace('+', plus)
        );
        let found = Detector::new().detect(text.as_bytes());
        assert_eq!(found.len(), 1, "{text}");
        let s = found[0].secret_access_key.as_ref().unwrap();
        assert_eq!(s.value.expose(), SECRET2, "{text}");
        assert_eq!(s.position.offset, 25, "{text}");
    }
}

#[test]
fn escapes_that_spell_no_key_are_nothing() {
    for text in [
        // Escaped `A`s in ordinary text.
        "{\"title\": \"\\u0041BC news\", \"x\": \"&#65;&#66;&#67;\"}".to_string(),
        // A documentation key ID, escaped, is still a documentation key ID.
        escaped("id: AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", |c| {
            format!("\\u{:04x}", c as u32)
        }),
        // Escapes of non-ASCII characters are never part of a key.
        "\\u0041\\u004B\\u0049\\u0041\\u00C9\\u00C9\\u00C9\\u00C9".to_string(),
        "&#65;".repeat(10_000),
    ] {
        assert_eq!(triples(text.as_bytes()), vec![], "{text}");
    }
}

#[test]
fn pairs_by_lines_across_wide_rows() {
    // Issue 16.4: a Markdown table whose rows are ~450 bytes wide; the key
    // ID two rows above its secret is ~900 bytes away.
    let pad = |s: &str| format!("{s:<400}");
    let table = fill(&format!(
        "| Variable | Description | Example |\n| --- | --- | --- |\n| AWS_ACCESS_KEY_ID | {} | {{ID}} |\n| AWS_DEFAULT_REGION | {} | us-east-1 |\n| AWS_SECRET_ACCESS_KEY | {} | {{S}} |\n",
        pad("Access key of the lab account."),
        pad("Region."),
        pad("Secret access key of the lab account.")
    ));
    assert_eq!(triples(table.as_bytes()), vec![pair(ID, SECRET)]);
    // Unnamed values on wide lines pair within two lines, not three.
    let wide = "x".repeat(600);
    let two = fill(&format!("{{ID}} {wide}\n{wide}\n{{S}}\n"));
    assert_eq!(triples(two.as_bytes()), vec![pair(ID, SECRET)]);
    let three = fill(&format!("{{ID}} {wide}\n{wide}\n{wide}\n{{S}}\n"));
    assert_eq!(
        triples(three.as_bytes()),
        vec![(Some(ID.into()), None, None)]
    );
    // Lines bound it on short lines too.
    let short = fill("{ID}\n-\n-\n-\n{S}\n");
    assert_eq!(
        triples(short.as_bytes()),
        vec![(Some(ID.into()), None, None)]
    );
    // On one giant (minified) line, bytes still decide.
    let minified = fill(&format!("var a=\"{{ID}}\";{wide};var b=\"{{S}}\";"));
    assert_eq!(
        triples(minified.as_bytes()),
        vec![(Some(ID.into()), None, None)]
    );
}

#[test]
fn delimited_rows_read_as_name_and_value() {
    let examples = [
        // An earlier cell of the row names the value.
        "| AWS_SECRET_ACCESS_KEY | Secret of the CI user (rotated yearly). | {S} |\n",
        "AWS_SECRET_ACCESS_KEY\tproduction\t{S}\n",
        "aws_secret_access_key,prod,{S},2021-03-01\n",
        // The header of its column does.
        "| Name | Created | Secret access key |\n|------|---------|-------------------|\n| ci | 2021 | {S} |\n",
        "user,created,secret access key,note\nbob,2020-01-01,{S},rotated\nann,2020-02-01,none,-\n",
        "User\tAccessKey\tSecretKey\n\"bob\"\t-\t{S}\n",
    ];
    for ex in examples {
        let text = fill(ex);
        assert_eq!(triples(text.as_bytes()), lone(SECRET), "{text}");
    }
    // The same tables naming something else.
    for ex in [
        "| GITHUB_TOKEN | Token of the bot. | {S} |\n",
        "user,created,api token,note\nbob,2020-01-01,{S},rotated\n",
        "| Name | Created | Checksum |\n|---|---|---|\n| ci | 2021 | {S} |\n",
        // Code with commas is no table.
        "call(secret, other,\n  x, y, \"{S}\")\n",
    ] {
        let text = fill(ex);
        assert_eq!(triples(text.as_bytes()), vec![], "{text}");
    }
}

#[test]
fn long_tables_are_walked_up_once() {
    // A CSV export with thousands of rows finds its header once per table,
    // not once per row: every row is one credential.
    let letters = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    let secrets: Vec<String> = (0..3000)
        .map(|i: usize| {
            let tail: String = [i % 49, i / 49 % 49, i / 2401]
                .iter()
                .map(|&d| letters[d] as char)
                .collect();
            format!("{}{tail}", &SECRET[..37])
        })
        .collect();
    let mut csv = String::from("user,created,secret access key,note\n");
    for (i, s) in secrets.iter().enumerate() {
        csv.push_str(&format!("user{i},2020-01-01,{s},-\n"));
    }
    let found = triples(csv.as_bytes());
    // The first MAX_FINDINGS_PER_BLOB rows; the rest are counted.
    let want: Vec<_> = secrets
        .iter()
        .take(MAX_FINDINGS_PER_BLOB)
        .map(|s| lone(s).remove(0))
        .collect();
    assert_eq!(found, want);
    let over = Detector::new().scan(csv.as_bytes()).over_limit;
    assert_eq!(over, (secrets.len() - MAX_FINDINGS_PER_BLOB) as u64);
    let mut labeler = label::Labeler::default();
    let rows: Vec<usize> = csv
        .match_indices(",2020-01-01,")
        .map(|(i, _)| i + 12)
        .collect();
    for &at in &rows {
        assert_eq!(labeler.label(csv.as_bytes(), at).secret, Strength::Aws);
    }
    assert!(
        labeler.lines_walked <= rows.len(),
        "{}",
        labeler.lines_walked
    );
}

#[test]
fn generic_names_take_the_enclosing_block() {
    let examples = [
        // Terraform variables.
        "variable \"aws_secret_key\" {\n  default = \"{S}\"\n}\n",
        "variable \"aws_secret_access_key\" {\n  type        = string\n  description = \"The key\"\n  default     = \"{S}\"\n}\n",
        // Kubernetes and ECS environment lists.
        "env:\n  - name: AWS_SECRET_ACCESS_KEY\n    value: \"{S}\"\n",
        "\"environment\": [\n  {\"name\": \"AWS_REGION\", \"value\": \"eu-west-1\"},\n  {\"name\": \"AWS_SECRET_ACCESS_KEY\", \"value\": \"{S}\"}\n]\n",
        "{\n  \"Name\": \"aws_secret_access_key\",\n  \"Value\": \"{S}\"\n}\n",
        // XML parent elements and attributes, .NET and property lists.
        "<SecretAccessKey>\n  <value>{S}</value>\n</SecretAccessKey>\n",
        "<appSettings>\n  <add key=\"AWSSecretKey\" value=\"{S}\" />\n</appSettings>\n",
        "<dict>\n  <key>AWSSecretKey</key>\n  <string>{S}</string>\n</dict>\n",
        // A YAML and a JSON parent key.
        "aws_secret_access_key:\n  default: {S}\n",
        "\"AWS_SECRET_ACCESS_KEY\": {\n  \"value\": \"{S}\"\n}\n",
    ];
    for ex in examples {
        let text = fill(ex);
        assert_eq!(triples(text.as_bytes()), lone(SECRET), "{text}");
    }
    for ex in [
        "variable \"db_password\" {\n  default = \"{S}\"\n}\n",
        "env:\n  - name: AWS_SECRET_ACCESS_KEY\n    valueFrom: {secretKeyRef: {name: aws}}\n  - name: SENTRY_DSN\n    value: \"{S}\"\n",
        "\"environment\": [\n  {\"name\": \"AWS_SECRET_ACCESS_KEY\", \"value\": \"${SECRET}\"},\n  {\"name\": \"API_KEY\", \"value\": \"{S}\"}\n]\n",
        "<appSettings>\n  <add key=\"AWSSecretKey\" value=\"\" />\n  <add key=\"Salt\" value=\"{S}\" />\n</appSettings>\n",
    ] {
        let text = fill(ex);
        assert_eq!(triples(text.as_bytes()), vec![], "{text}");
    }
}

#[test]
fn made_up_values_are_not_leaks() {
    // Issues 16.6–16.8: placeholder words, copies of AWS's documentation
    // examples and typed values, with a key ID or a name beside them.
    for ex in [
        "aws_secret_access_key = FakeValuesForLocalDevelopmentOnly2q9Zr7L\n",
        "AWS_SECRET_ACCESS_KEY=AbCdEfGhSAMPLE2xZ9wQ7vR3tY6uI0oP4aS8dF1g\n",
        "secretAccessKey: k3Jq9ZxW2vR7tDUMMYKEYp5Lm8Nc1Bh4Gf6Ds0Aa\n",
        "aws_secret_access_key = Zx3Wq8Rt5Yu2Io7Pa4Sd6Fg9Hj1Kl0ZxCvTESTKEY\n",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYQ3zT9vLm2X\n",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7QZTW3KP\nAWS_SECRET_ACCESS_KEY=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\n",
        "AWS_ACCESS_KEY_ID=AKIA7QWERTY8ZXCVBNM2\nAWS_SECRET_ACCESS_KEY=7xQwErTyUiOpAsDfGhJkLzXcVbNm1234567890ab\n",
        "aws_secret_access_key = qwertyuiopASDFGHJKL1234567890zxcvbnmQ2w9\n",
        // The documented AssumeRoleWithSAML token with `EXAMPLE` edited out.
        "aws_session_token = IQoJb3JpZ2luX2VjEOz//////////wEaCXVzLWVhc3QtMSJHMEUCIDoKK3JH9uGQE1z0sINr5M4jk+Na8KHDcCYRVjJCZEvOAiEA3OvJGtw1EcViOleS2vhs8VdCKFJQWPQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYw\n",
    ] {
        assert_eq!(triples(ex.as_bytes()), vec![], "{ex}");
    }
    // A typed secret beside a real key ID: the key ID alone is reported.
    let text = fill(
        "AWS_ACCESS_KEY_ID={ID}\nAWS_SECRET_ACCESS_KEY=7xQwErTyUiOpAsDfGhJkLzXcVbNm1234567890ab\n",
    );
    assert_eq!(
        triples(text.as_bytes()),
        vec![(Some(ID.into()), None, None)]
    );
    // Real keys that hold a short word are kept.
    for s in [
        "Test2q9Zr7Lk1Xp0Mv3Bn6Ct8W2Ds4Fg5Hj+Qa3e",
        "q2Ds4FakeZr7Lk1Xp0Mv3Bn6Ct8W/Fg5Hj+Qa3eR",
    ] {
        let text = format!("aws_secret_access_key = {s}\n");
        assert_eq!(triples(text.as_bytes()), lone(s), "{text}");
    }
}

#[test]
fn a_secret_beside_only_a_rejected_key_id_is_made_up_too() {
    // Issue 16.8: the key ID next to it is a placeholder or impossible.
    for ex in [
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY={S}\n",
        "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX\naws_secret_access_key = {S}\n",
        "{\"accessKeyId\": \"AKIA3MBNRQ8EUXTV4WDS\", \"secretAccessKey\": \"{S}\"}",
        "aws_access_key_id = ASIAIOSFODNN7EXAMPLE\naws_secret_access_key = {S}\naws_session_token = {T}\n",
    ] {
        let text = fill(ex);
        assert_eq!(triples(text.as_bytes()), vec![], "{text}");
    }
    // A truncated key ID is a copy error, not a made-up one: the secret
    // stays; and a real key ID near wins over a placeholder.
    let text = fill("aws_access_key_id = AKIAW3T63HVT24D5MC3\naws_secret_access_key = {S}\n");
    assert_eq!(triples(text.as_bytes()), lone(SECRET));
    let text = fill(
        "# e.g. AKIAIOSFODNN7EXAMPLE\naws_access_key_id = {ID}\naws_secret_access_key = {S}\n",
    );
    assert_eq!(triples(text.as_bytes()), vec![pair(ID, SECRET)]);
}

/// Bytes the value reader goes over in `text`.
fn bytes_read(text: &[u8]) -> usize {
    let mut atoms = Atoms::default();
    let view = View {
        id: 0,
        outer: None,
        encoding: None,
    };
    Detector::new().collect(text, view, 0, &mut atoms);
    atoms.bytes_read
}

#[test]
fn anchors_inside_one_long_run_read_it_once() {
    // Issue 20.2: every session-token marker (or `secret`, or key ID) in a
    // long base64 run re-read up to 16 KiB around it. Now the bytes read
    // grow with the input, not with anchors times 16 KiB. (Anchors right
    // next to each other always merged into one window: these have gaps.)
    let secret_word = format!("secret{}", "Q".repeat(170));
    for unit in [
        "Jb3JpZ2luX2VjQUJD",
        "FwoGZXIvYXdzx",
        secret_word.as_str(),
        "Jb3JpZ2luX2VjAKIA2IJB4LAJLJ6HDU6Gx",
    ] {
        let small = unit.repeat(400_000 / unit.len());
        let large = unit.repeat(800_000 / unit.len());
        let (a, b) = (bytes_read(small.as_bytes()), bytes_read(large.as_bytes()));
        let name = &unit[..13];
        assert!(
            a <= 3 * small.len(),
            "{name}: {a} bytes read of {}",
            small.len()
        );
        assert!(b <= 2 * a + (64 << 10), "{name}: {a} then {b}");
        assert!(triples(large.as_bytes()).is_empty());
    }
}

/// What a presigned URL's finding holds: key ID, token, signing, expiry.
type Signed = (String, Option<String>, Signing, Option<String>);

/// Findings of `text` split into presigned URLs and the rest.
fn presigned_and_leaks(text: &str) -> (Vec<Signed>, Vec<Triple>) {
    let mut urls = Vec::new();
    let mut leaks = Vec::new();
    for c in Detector::new().detect(text.as_bytes()) {
        let token = c.session_token.map(|p| p.value.expose().to_string());
        match c.presigned {
            Some(p) => {
                assert!(c.secret_access_key.is_none(), "{text}");
                assert_eq!(c.confidence, Confidence::Medium);
                let id = c.access_key_id.map(|p| p.value).unwrap_or_default();
                urls.push((id, token, p.signing, p.expires));
            }
            None => leaks.push((
                c.access_key_id.map(|p| p.value),
                c.secret_access_key.map(|p| p.value.expose().to_string()),
                token,
            )),
        }
    }
    (urls, leaks)
}

type Triple = (Option<String>, Option<String>, Option<String>);

/// The token as a query writes it.
fn percent(v: &str) -> String {
    v.replace('/', "%2F")
        .replace('+', "%2B")
        .replace('=', "%3D")
}

fn sigv4(host_and_path: &str, id: &str, token: Option<&str>) -> String {
    let mut url = format!(
        "https://{host_and_path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={id}%2F20231130%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20231130T235959Z&X-Amz-Expires=3600"
    );
    if let Some(t) = token {
        url.push_str(&format!("&X-Amz-Security-Token={}", percent(t)));
    }
    url.push_str("&X-Amz-SignedHeaders=host&X-Amz-Signature=3e5c1f0d9b7a6c4e2f8d0b1a3c5e7f9d2b4a6c8e0f1d3b5a7c9e2f4d6b8a0c1e");
    url
}

#[test]
fn presigned_urls_are_their_own_kind_in_real_world_shapes() {
    let expiry = Some("2023-12-01T00:59:59Z".to_string());
    let temp = (
        ASIA.to_string(),
        Some(TOKEN.to_string()),
        Signing::Sigv4,
        expiry.clone(),
    );
    let long_term = (ID.to_string(), None, Signing::Sigv4, expiry.clone());
    let virtual_hosted = sigv4(
        "my-bucket.s3.us-west-2.amazonaws.com/reports/q3.pdf",
        ASIA,
        Some(TOKEN),
    );
    let path_style = sigv4(
        "s3.us-west-2.amazonaws.com/my-bucket/data/train.csv",
        ID,
        None,
    );
    for (text, want) in [
        // A link in a shell script and in prose.
        (format!("wget -O q3.pdf \"{virtual_hosted}\"\n"), temp.clone()),
        (format!("Download: {path_style}\n"), long_term.clone()),
        // A Notion export's image in Markdown.
        (format!("# Notes\n\n![image.png]({virtual_hosted})\n\nmore text\n"), temp.clone()),
        // A notebook's output, the URL in a JSON string.
        (
            format!(
                "{{\"cells\": [{{\"outputs\": [{{\"data\": {{\"text/plain\": [\"'{path_style}'\"]}}, \"output_type\": \"execute_result\"}}]}}]}}"
            ),
            long_term.clone(),
        ),
        // The same notebook JSON written with `\/` and `\u0026`.
        (
            format!(
                "{{\"url\":\"{}\"}}",
                virtual_hosted.replace('/', "\\/").replace('&', "\\u0026")
            ),
            temp.clone(),
        ),
        // HTML.
        (
            format!("<img src=\"{}\" alt=\"chart\">", virtual_hosted.replace('&', "&amp;")),
            temp.clone(),
        ),
        // SigV2: `AWSAccessKeyId`, `Expires` (seconds since 1970), `Signature`.
        (
            format!("curl -o f.zip 'https://my-bucket.s3.amazonaws.com/f.zip?AWSAccessKeyId={ID}&Expires=1701388800&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D'\n"),
            (ID.to_string(), None, Signing::Sigv2, Some("2023-12-01T00:00:00Z".into())),
        ),
        (
            format!("FILE_URL = \"https://s3.amazonaws.com/my-bucket/f.zip?Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D&Expires=1701388800&AWSAccessKeyId={ID}\""),
            (ID.to_string(), None, Signing::Sigv2, Some("2023-12-01T00:00:00Z".into())),
        ),
    ] {
        let (urls, leaks) = presigned_and_leaks(&text);
        assert_eq!(urls, vec![want], "{text}");
        assert_eq!(leaks, vec![], "{text}");
    }
}

#[test]
fn a_key_id_leaked_beside_its_presigned_url_is_still_a_leak() {
    let url = sigv4("b.s3.amazonaws.com/k", ID, None);
    // The same key ID as a pair a few lines below the link: one leak, one URL.
    let text = fill(&format!(
        "Share: {url}\n\n[default]\naws_access_key_id = {{ID}}\naws_secret_access_key = {{S}}\n"
    ));
    let (urls, leaks) = presigned_and_leaks(&text);
    assert_eq!(urls.len(), 1, "{text}");
    assert_eq!(leaks, vec![pair(ID, SECRET)], "{text}");
    // And on the same line: the URL's key ID does not take the secret.
    let text = fill(&format!("{url} aws_secret_access_key={{S}} key={{ID}}\n"));
    let (urls, leaks) = presigned_and_leaks(&text);
    assert_eq!(urls.len(), 1, "{text}");
    assert_eq!(leaks, vec![pair(ID, SECRET)], "{text}");
    // A named secret whose only key ID is the URL's: a lone secret.
    let text = fill(&format!("{url}\naws_secret_access_key = {{S}}\n"));
    let (urls, leaks) = presigned_and_leaks(&text);
    assert_eq!(urls.len(), 1, "{text}");
    assert_eq!(leaks, vec![(None, Some(SECRET.into()), None)], "{text}");
}

#[test]
fn a_presigned_urls_token_stays_with_it() {
    // Another temporary key beside the link does not take the link's token.
    let url = sigv4("b.s3.amazonaws.com/k", ASIA, Some(TOKEN));
    let other = "ASIADPMRCG4BE4UMR46P";
    let text = format!("export AWS_ACCESS_KEY_ID={other}\ncurl '{url}'\n");
    let (urls, leaks) = presigned_and_leaks(&text);
    assert_eq!(urls.len(), 1, "{text}");
    assert_eq!(urls[0].1.as_deref(), Some(TOKEN));
    assert_eq!(leaks, vec![(Some(other.into()), None, None)], "{text}");
    // A URL whose key ID is a documentation example: nothing at all.
    let url = sigv4("b.s3.amazonaws.com/k", "ASIAIOSFODNN7EXAMPLE", Some(TOKEN));
    assert_eq!(triples(url.as_bytes()), vec![], "{url}");
}

#[test]
fn not_every_credential_parameter_is_a_presigned_url() {
    // The old AWS tools' credential file: `AWSAccessKeyId=` on a line of its own.
    let text = fill("AWSAccessKeyId={ID}\nAWSSecretKey={S}\n");
    let (urls, leaks) = presigned_and_leaks(&text);
    assert_eq!(urls, vec![]);
    assert_eq!(leaks, vec![pair(ID, SECRET)]);
    // A query that passes a key pair along is a leak, not a signature.
    let text = fill("https://x/api?AWSAccessKeyId={ID}&AWSSecretKey={S}");
    let (urls, leaks) = presigned_and_leaks(&text);
    assert_eq!(urls, vec![], "{text}");
    assert_eq!(leaks, vec![pair(ID, SECRET)], "{text}");
}

/// `n` distinct, well-formed key IDs that are not placeholders.
fn key_ids(n: usize) -> Vec<String> {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0u64..)
        .map(|i| {
            let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i << 7);
            let tail: String = (0..8)
                .map(|k| B32[(x >> (5 * k + 13)) as usize & 31] as char)
                .collect();
            format!("AKIASP2TPHJS{tail}")
        })
        .filter(|id| !allow::is_placeholder_key_id(id))
        .take(n)
        .collect()
}

#[test]
fn one_blob_contributes_at_most_max_findings_and_counts_the_rest() {
    // Issue 20.3: a few kilobytes of compressed key IDs hold millions of
    // findings. The first MAX_FINDINGS_PER_BLOB are kept, the rest are
    // counted, and the parts held before pairing stay bounded.
    for n in [3 * MAX_FINDINGS_PER_BLOB, 12 * MAX_FINDINGS_PER_BLOB] {
        let ids = key_ids(n);
        let text: String = ids
            .iter()
            .map(|id| format!("aws_access_key_id = {id}\n"))
            .collect();
        let found = Detector::new().scan(text.as_bytes());
        assert_eq!(found.credentials.len(), MAX_FINDINGS_PER_BLOB, "{n}");
        assert_eq!(found.over_limit, (n - MAX_FINDINGS_PER_BLOB) as u64, "{n}");
        // The kept ones are the first in the blob.
        assert_eq!(found.credentials[0].key_id(), Some(ids[0].as_str()));
        let last = &found.credentials[MAX_FINDINGS_PER_BLOB - 1];
        assert_eq!(last.key_id(), Some(ids[MAX_FINDINGS_PER_BLOB - 1].as_str()));
    }
    // Below the limit nothing is counted.
    let text: String = key_ids(10).iter().map(|id| format!("{id}\n")).collect();
    let found = Detector::new().scan(text.as_bytes());
    assert_eq!((found.credentials.len(), found.over_limit), (10, 0));
}

#[test]
fn the_limit_is_per_blob_across_archive_members() {
    let ids = key_ids(1400);
    // Two members of 700 key IDs each: one blob, 1,000 kept, 400 counted.
    let member = |from: usize| -> Vec<u8> {
        ids[from..from + 700]
            .iter()
            .map(|id| format!("{id}\n"))
            .collect::<String>()
            .into_bytes()
    };
    let mut tar = Vec::new();
    for (name, body) in [("a.txt", member(0)), ("b.txt", member(700))] {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..107].copy_from_slice(b"0000644");
        let size = format!("{:011o}", body.len());
        header[124..135].copy_from_slice(size.as_bytes());
        header[156] = b'0';
        header[257..262].copy_from_slice(b"ustar");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        tar.extend_from_slice(&header);
        tar.extend_from_slice(&body);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.resize(tar.len() + 1024, 0);
    let found = Detector::new().scan(&tar);
    assert_eq!(found.archive_members, 2);
    assert_eq!(found.credentials.len(), MAX_FINDINGS_PER_BLOB);
    assert_eq!(found.over_limit, 400);
    // Findings of one member share its name.
    let (a, b) = (&found.credentials[0], &found.credentials[1]);
    let (ma, mb) = (a.member.as_ref().unwrap(), b.member.as_ref().unwrap());
    assert_eq!(ma.names(), ["a.txt"]);
    assert!(std::ptr::eq(ma.names(), mb.names()));
}
