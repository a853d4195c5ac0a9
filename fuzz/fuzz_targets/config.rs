//! The config file parser: any text is a config or an error that names
//! the file and never quotes its content (a config read from a symlink to
//! `/proc/self/environ` must not print the environment).

#![no_main]

use keysweep::settings::Config;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text, Path::new("fuzz.toml")) {
        Ok(_) => {}
        Err(e) => {
            let message = format!("{e:#}");
            assert!(message.contains("fuzz.toml"), "{message}");
            // No line of the input is echoed. (Lines made only of the
            // characters error messages are written in cannot be told from
            // the message itself: `=`, quotes, capitals or other symbols mark
            // content, as in every `KEY = "value"` line.)
            let content = |l: &&str| {
                l.len() >= 12
                    && l.chars().any(|c| {
                        !(c.is_ascii_lowercase() || c.is_ascii_digit() || " ,.:_-'`".contains(c))
                    })
            };
            for line in text.lines().map(str::trim).filter(content) {
                assert!(!message.contains(line), "quoted {line:?} in {message}");
            }
        }
    }
});
