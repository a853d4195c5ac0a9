//! What a value is called: the name in front of it (`aws_secret_access_key
//! = …`, `"secretAccessKey": …`, `<SecretAccessKey>…`, `--secret-key …`).
//!
//! A 40-character string is only a secret access key when something says so:
//! a key ID near it, or a name like these. The name is read backwards from
//! the value over separators (`=`, `:`, quotes, spaces) and then over the
//! identifier itself, within the same line.

/// How strongly the name in front of a value marks it as an AWS credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Strength {
    /// No name, or one that says nothing (`nonce`, `id`).
    #[default]
    None,
    /// A secret-ish name without AWS in it (`secret_key`, `password`).
    Generic,
    /// An AWS secret name (`aws_secret_access_key`, `SecretAccessKey`).
    Aws,
}

/// The names in front of a value, classified for secrets and for tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Label {
    pub secret: Strength,
    pub token: Strength,
}

const SEPARATORS: &[u8] = b" \t'\"`:=>(,{|";
const MAX_NAME: usize = 64;

/// Classifies the name in front of `data[at..]`.
pub fn label_before(data: &[u8], at: usize) -> Label {
    // Look back at most 256 bytes: searching for the line start over the
    // whole prefix made a long line with many values quadratic.
    let reach = at.saturating_sub(256);
    let floor = memchr::memrchr(b'\n', &data[reach..at]).map_or(reach, |i| reach + i + 1);
    let mut i = at;
    let mut skipped = 0;
    while i > floor && SEPARATORS.contains(&data[i - 1]) && skipped < 8 {
        i -= 1;
        skipped += 1;
    }
    let name_end = i;
    while i > floor && name_end - i < MAX_NAME && is_name_byte(data[i - 1]) {
        i -= 1;
    }
    let raw_name = &data[i..name_end];
    let name = normalize(raw_name);
    // The last word of the name alone (`secret_key`, not `DJANGO_SECRET_KEY`).
    let last_word = raw_name
        .rsplit(|&b| b == b' ')
        .next()
        .map(normalize)
        .unwrap_or_default();
    if matches!(
        last_word.as_str(),
        "secret" | "secretkey" | "secretaccesskey" | "accesssecret" | "secretaccess"
    ) {
        return Label {
            secret: Strength::Aws,
            token: Strength::None,
        };
    }
    let line_has_aws = contains_any(&normalize(&data[floor..at]), &["aws", "amazon", "amz"]);
    classify(&name, line_has_aws)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' ' | b'[' | b']' | b'$' | b'@')
}

/// Lower-case letters and digits only: `AWS_Secret-Access.Key` → `awssecretaccesskey`.
fn normalize(s: &[u8]) -> String {
    s.iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

fn contains_any(s: &str, words: &[&str]) -> bool {
    words.iter().any(|w| s.contains(w))
}

fn classify(name: &str, line_has_aws: bool) -> Label {
    let aws = line_has_aws || contains_any(name, &["aws", "amazon", "amz", "s3", "iam"]);
    let secretish = contains_any(name, &["secret", "sk", "privatekey"]);
    let secret = if contains_any(
        name,
        &["secretaccesskey", "awssecret", "awssk", "secretkey"],
    ) && (aws || name.contains("secretaccesskey"))
        || secretish && aws
    {
        Strength::Aws
    } else if secretish
        || contains_any(
            name,
            &[
                "key",
                "password",
                "passwd",
                "pwd",
                "pass",
                "credential",
                "auth",
            ],
        )
    {
        Strength::Generic
    } else {
        Strength::None
    };
    let token = if contains_any(name, &["sessiontoken", "securitytoken", "ststoken"])
        || name.contains("token") && aws
    {
        Strength::Aws
    } else if name.contains("token") || name.contains("session") {
        Strength::Generic
    } else {
        Strength::None
    };
    Label { secret, token }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_label(line: &str) -> Strength {
        let at = line.rfind('X').expect("value marker");
        label_before(line.as_bytes(), at).secret
    }

    #[test]
    fn aws_secret_names() {
        for line in [
            "aws_secret_access_key = X",
            "AWS_SECRET_ACCESS_KEY=X",
            "export AWS_SECRET_ACCESS_KEY=\"X",
            "  \"secretAccessKey\": \"X",
            "<SecretAccessKey>X",
            "AWS Secret Access Key [None]: X",
            "cloud.aws.credentials.secret-key=X",
            "GEO_SERVICE_AWS_SECRET=\"X",
            "aws s3 ls --secret-access-key X",
            "{accessKeyId:\"AKIAQYLPMN5HHHFPZAM2\",secretAccessKey:\"X",
            "aws: {secret: 'X",
        ] {
            assert_eq!(secret_label(line), Strength::Aws, "{line}");
        }
    }

    #[test]
    fn other_names() {
        assert_eq!(secret_label("DJANGO_SECRET_KEY=X"), Strength::Generic);
        assert_eq!(
            secret_label("secret_key: X"),
            Strength::Aws,
            "the bare AWS name"
        );
        assert_eq!(secret_label("github_token=X"), Strength::None);
        assert_eq!(secret_label("password: X"), Strength::Generic);
        assert_eq!(secret_label("\"nonce\": \"X"), Strength::None);
        assert_eq!(secret_label("- (X"), Strength::None);
        assert_eq!(
            secret_label("Provider(\"AKIAQYLPMN5HHHFPZAM2\", \"X"),
            Strength::None
        );
    }

    #[test]
    fn token_names() {
        let t = |line: &str| label_before(line.as_bytes(), line.rfind('X').unwrap()).token;
        assert_eq!(t("aws_session_token = X"), Strength::Aws);
        assert_eq!(t("\"SessionToken\": \"X"), Strength::Aws);
        assert_eq!(t("X-Amz-Security-Token=X"), Strength::Aws);
        assert_eq!(t("github_token=X"), Strength::Generic);
        assert_eq!(t("nonce=X"), Strength::None);
    }
}
