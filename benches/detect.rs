//! Throughput of the pure detector on synthetic but realistic input:
//! source-like text with a planted credential every ~64 KiB, minified
//! one-line JavaScript, and a dense worst case with a key-ID prefix on every
//! line. Run: `cargo bench --bench detect`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use keysweep::detect::Detector;

/// Deterministic pseudo-random text (xorshift), so runs are comparable.
fn source_like(size: usize) -> Vec<u8> {
    let words = [
        "let", "config", "return", "secret", "token", "value", "user", "fn", "async", "=", "{",
        "}", "(", ");", "self", "key", "string", "AWS", "region",
    ];
    let mut state = 0x2545F4914F6CDD1Du64;
    let mut out = Vec::with_capacity(size + 256);
    let mut since_plant = 0;
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(words[(state % words.len() as u64) as usize].as_bytes());
        out.push(if state.is_multiple_of(11) {
            b'\n'
        } else {
            b' '
        });
        since_plant += 1;
        if since_plant == 10_000 {
            since_plant = 0;
            out.extend_from_slice(b"\naws_access_key_id = AKIA2IJB4LAJLJ6HDU6G\naws_secret_access_key = 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\n");
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let detector = Detector::new();
    let mut group = c.benchmark_group("detect");
    let text = source_like(8 << 20);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("source-like 8 MiB", |b| {
        b.iter(|| detector.detect(black_box(&text)))
    });
    let minified: Vec<u8> = text
        .iter()
        .map(|&b| if b == b'\n' { b';' } else { b })
        .collect();
    group.bench_function("one line 8 MiB", |b| {
        b.iter(|| detector.detect(black_box(&minified)))
    });
    let dense = "id=AKIA2IJB4LAJLJ6HDU6G secret=x\n"
        .repeat(100_000)
        .into_bytes();
    group.throughput(Throughput::Bytes(dense.len() as u64));
    group.bench_function("a key ID on every line", |b| {
        b.iter(|| detector.detect(black_box(&dense)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
