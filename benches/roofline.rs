//! The roofline of this machine, one core, and where the workloads sit on it.
//!
//! `cargo bench --bench roofline -- [--w1 CSV] [--w3 CSV] [--json]`
//!
//! 1. **Peak `f64` arithmetic** of one core: independent chains of fused
//!    multiply-adds (`acc = acc * a + b`, 12 vector accumulators, enough to
//!    cover the FMA latency on two pipes), with AVX-512 (8 lanes) and
//!    AVX2 + FMA (4 lanes) chosen at run time, and the same chains as plain
//!    Rust (`acc * a + b`: a multiply and an add, SSE2, 2 lanes), which is
//!    what the crate's own loops compile to for the default `x86-64` target.
//!    Intrinsics and run-time detection live in this bench only.
//! 2. **Bandwidth** of one core: the STREAM triad `a_i = b_i + s c_i`
//!    (24 bytes per element: two reads, one write; write-allocate traffic
//!    not counted) on arrays that fit in L1 (3 × 8 KiB), in L2
//!    (3 × 192 KiB) and only in memory (3 × 64 MiB), as plain Rust (SSE2).
//!    Each figure is the best of many short runs, so that on a shared
//!    machine some run has its core to itself.
//! 3. **The workloads**, timed as `bench/compare.py` times them (median
//!    step, one thread), with their floating-point work and the bytes
//!    their products move counted from the model sizes:
//!
//!    - MLP on `B` rows, `W` weights (`Σ fan_in · fan_out`), `N` neurons,
//!      `P` parameters: forward `2·B·W` (a multiply and an add per weight
//!      per row) `+ 2·B·N` (bias, activation) `+ 4·B` (hinge loss and mean)
//!      `+ 2·P` (L2); backward twice the forward (two multiply-adds per
//!      forward one: `∂w += g·x`, `∂x += g·w`); SGD `2·P`. So about
//!      `6·B·W`. Bytes: 64 per weight per row (forward reads `w` and `x`,
//!      16 B; backward reads `x` and reads and writes `∂w`, then reads `w`
//!      and reads and writes `∂x`, 48 B), plus 32 per parameter for SGD.
//!    - microgpt (`d` = n_embd, `h` heads, `L` layers, `V` vocab, `P`
//!      parameters), per position `t` of a document (from 0; it attends to
//!      `t + 1` positions): multiply-adds
//!      `M(t) = L·(12 d² + 2 d (t+1) + 2 d) + d + V·d` (q, k, v, o and the
//!      MLP's two matrices; attention logits and weighted sums; the
//!      rmsnorms' `x·x`; `lm_head`), elementwise
//!      operations `E(t) = L·(4 h (t+1) + 6 d + 8) + 3 d + 3 V + 6` (softmax,
//!      scaling, rmsnorm, residuals, relu, loss), each counted as one
//!      FLOP; forward `2 M + E`, backward twice that; Adam 14 per
//!      parameter. Bytes: 64 per multiply-add as above, 64 per parameter
//!      for Adam (reads and writes `p`, `∂p`, `m`, `v`). Averaged over the
//!      names (each step trains on one; the mean positions per name is
//!      printed).
//!
//! "Bytes" are the products' operand traffic whatever cache serves it:
//! the scalar graph keeps one sample's nodes apart from the next's, so
//! nothing is reused between rows except through the caches, and the
//! arithmetic intensity of a step is about 6 FLOPs per 64 bytes. The
//! "L2 roof" is that intensity times the L2 triad bandwidth.

use std::hint::black_box;
use std::time::Instant;

use backprop::data::{self, CsvOptions, Dataset};

#[path = "common/steps.rs"]
mod steps;

/// Seconds of `f` (which returns the FLOPs or bytes it did), best of `reps`.
fn best_rate(reps: usize, mut f: impl FnMut() -> f64) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..reps {
        let t0 = Instant::now();
        let work = f();
        best = best.max(work / t0.elapsed().as_secs_f64());
    }
    best
}

/// Independent chains in the portable kernel: 24 doubles, 12 SSE2
/// registers, enough for two multiplies and two adds per cycle.
const CHAINS: usize = 24;

/// FLOPs done: `acc * a + b` on [`CHAINS`] accumulators, `iters` times,
/// as plain Rust (what the crate's loops compile to).
#[inline(never)]
fn mul_add_portable(iters: u64) -> f64 {
    let (a, b) = (black_box(0.999_999), black_box(1e-7));
    let mut acc = [1.0f64; CHAINS];
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = *x * a + b;
        }
    }
    black_box(acc);
    (2 * CHAINS as u64 * iters) as f64
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// Vector accumulators: FMA latency 4 cycles × 2 pipes needs 8; 12
    /// leaves room for the loop's own instructions.
    const ACC: usize = 12;

    /// FLOPs done by `iters` rounds of 12 independent 8-lane FMAs.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn fma512(iters: u64) -> f64 {
        let a = _mm512_set1_pd(black_box(0.999_999));
        let b = _mm512_set1_pd(black_box(1e-7));
        let mut acc = [_mm512_set1_pd(1.0); ACC];
        for _ in 0..iters {
            for r in acc.iter_mut() {
                *r = _mm512_fmadd_pd(*r, a, b);
            }
        }
        black_box(acc);
        (2 * 8 * ACC as u64 * iters) as f64
    }

    /// FLOPs done by `iters` rounds of 12 independent 4-lane FMAs.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fma256(iters: u64) -> f64 {
        let a = _mm256_set1_pd(black_box(0.999_999));
        let b = _mm256_set1_pd(black_box(1e-7));
        let mut acc = [_mm256_set1_pd(1.0); ACC];
        for _ in 0..iters {
            for r in acc.iter_mut() {
                *r = _mm256_fmadd_pd(*r, a, b);
            }
        }
        black_box(acc);
        (2 * 4 * ACC as u64 * iters) as f64
    }

    pub fn avx512() -> Option<fn(u64) -> f64> {
        // SAFETY: called only where the feature was detected.
        is_x86_feature_detected!("avx512f").then_some((|n| unsafe { fma512(n) }) as fn(u64) -> f64)
    }

    pub fn avx2() -> Option<fn(u64) -> f64> {
        // SAFETY: called only where the features were detected.
        (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
            .then_some((|n| unsafe { fma256(n) }) as fn(u64) -> f64)
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    pub fn avx512() -> Option<fn(u64) -> f64> {
        None
    }
    pub fn avx2() -> Option<fn(u64) -> f64> {
        None
    }
}

/// Best triad bandwidth (bytes/s) on three arrays of `n` doubles: runs
/// of about 100 MB each (at least one pass), best of `reps`.
fn triad(n: usize, reps: usize) -> f64 {
    let (mut a, b, c) = (vec![0.0f64; n], vec![1.0f64; n], vec![2.0f64; n]);
    let s = black_box(0.5);
    let rounds = (1e8 / (24.0 * n as f64)).ceil() as usize;
    best_rate(reps, || {
        for _ in 0..rounds {
            for ((x, y), z) in a.iter_mut().zip(&b).zip(&c) {
                *x = y + s * z;
            }
            black_box(&mut a);
        }
        (24 * n * rounds) as f64
    })
}

/// FLOPs and bytes of one step of an MLP `2-hidden-1` on `rows` rows.
fn mlp_work(rows: usize, hidden: &[usize]) -> (f64, f64) {
    let mut sizes = vec![2];
    sizes.extend_from_slice(hidden);
    sizes.push(1);
    let w: usize = sizes.windows(2).map(|p| p[0] * p[1]).sum();
    let n: usize = sizes[1..].iter().sum();
    let p = w + n;
    let b = rows as f64;
    let forward = 2.0 * b * w as f64 + 2.0 * b * n as f64 + 4.0 * b + 2.0 * p as f64;
    let flops = 3.0 * forward + 2.0 * p as f64;
    let bytes = 64.0 * b * w as f64 + 32.0 * p as f64;
    (flops, bytes)
}

/// FLOPs and bytes of one step of `backprop gpt`'s default model, averaged
/// over the names, and the mean positions per name.
fn gpt_work() -> (f64, f64, f64) {
    use backprop::nn::gpt::{GptConfig, NAMES, Tokenizer, documents};
    let c = GptConfig::default();
    let docs = documents(NAMES.as_bytes()).expect("the names");
    let tok = Tokenizer::from_documents(&docs);
    let (d, h, l, v) = (
        c.n_embd as f64,
        c.n_head as f64,
        c.n_layer as f64,
        c.vocab_size as f64,
    );
    let p = c.num_parameters() as f64;
    let (mut flops, mut bytes, mut positions) = (0.0, 0.0, 0.0);
    for doc in &docs {
        let tokens = tok.document(doc, c.block_size).len();
        for t in 0..tokens - 1 {
            let k = (t + 1) as f64;
            let macs = l * (12.0 * d * d + 2.0 * d * k + 2.0 * d) + d + v * d;
            let elementwise = l * (4.0 * h * k + 6.0 * d + 8.0) + 3.0 * d + 3.0 * v + 6.0;
            flops += 3.0 * (2.0 * macs + elementwise);
            bytes += 64.0 * macs;
            positions += 1.0;
        }
    }
    let nd = docs.len() as f64;
    (flops / nd + 14.0 * p, bytes / nd + 64.0 * p, positions / nd)
}

fn load(path: Option<&String>, n: usize, seed: u64) -> Dataset {
    match path {
        Some(p) => data::read_csv(p, &CsvOptions::default()).unwrap_or_else(|e| {
            eprintln!("error: {p}: {e}");
            std::process::exit(2)
        }),
        None => data::moons(n, 0.1, seed),
    }
}

/// `1234567` as `1.23 M`.
fn si(x: f64) -> String {
    let (v, unit) = if x >= 1e9 {
        (x / 1e9, " G")
    } else if x >= 1e6 {
        (x / 1e6, " M")
    } else if x >= 1e3 {
        (x / 1e3, " k")
    } else {
        (x, " ")
    };
    format!("{v:.3}{unit}").trim_end().to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let json = args.iter().any(|a| a == "--json");

    // Many short runs, best of them: on a shared machine a short run has a
    // fair chance of keeping its core throughout.
    let iters = 20_000;
    let portable = best_rate(300, || mul_add_portable(iters * 4));
    let avx512 = simd::avx512().map(|f| best_rate(300, || f(iters)));
    let avx2 = simd::avx2().map(|f| best_rate(300, || f(iters * 2)));
    let peak = [avx512, avx2]
        .into_iter()
        .flatten()
        .fold(portable, f64::max);
    let l1 = triad(1 << 10, 100);
    let l2 = triad(24 << 10, 100);
    let dram = triad(8 << 20, 10);

    let d1 = load(opt("--w1"), 100, 1337);
    let d3 = load(opt("--w3"), 200, 1338);
    let (w1_step, _, _) = steps::train(&d1, &[16, 16], 100, 1);
    let (w3_step, _, _) = steps::train(&d3, &[64, 64], 20, 1);
    let (w4_step, _, _) = steps::w4();
    let (w1_flops, w1_bytes) = mlp_work(d1.len(), &[16, 16]);
    let (w3_flops, w3_bytes) = mlp_work(d3.len(), &[64, 64]);
    let (w4_flops, w4_bytes, w4_positions) = gpt_work();

    let gf = |x: f64| x / 1e9;
    let rows = [
        (
            "W1: moons 100, MLP 2-16-16-1, SGD",
            w1_flops,
            w1_bytes,
            w1_step,
        ),
        (
            "W3: moons 200, MLP 2-64-64-1, SGD",
            w3_flops,
            w3_bytes,
            w3_step,
        ),
        (
            "W4: microgpt, 1 name per step, Adam",
            w4_flops,
            w4_bytes,
            w4_step,
        ),
    ];
    if json {
        let cells: Vec<String> = rows
            .iter()
            .zip(["w1", "w3", "w4"])
            .map(|((_, f, b, s), k)| {
                format!("\"{k}\": {{\"flops\": {f:e}, \"bytes\": {b:e}, \"step\": {s:e}}}")
            })
            .collect();
        println!(
            "{{\"peak_avx512\": {:e}, \"peak_avx2\": {:e}, \"peak_portable\": {portable:e}, \"bw_l1\": {l1:e}, \"bw_l2\": {l2:e}, \"bw_dram\": {dram:e}, {}}}",
            avx512.unwrap_or(f64::NAN),
            avx2.unwrap_or(f64::NAN),
            cells.join(", ")
        );
        return;
    }
    let show = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}", gf(x)));
    println!(
        "One core, f64 peak: AVX-512 FMA {} GFLOP/s, AVX2 FMA {} GFLOP/s, SSE2 mul + add \
         (the default x86-64 build's own loops) {:.1} GFLOP/s.",
        show(avx512),
        show(avx2),
        gf(portable)
    );
    println!(
        "One core, triad bandwidth: L1 {:.1} GB/s, L2 {:.1} GB/s, memory {:.1} GB/s.\n",
        gf(l1),
        gf(l2),
        gf(dram)
    );
    println!(
        "| workload | FLOPs/step | bytes/step | FLOP/byte | ms/step | GFLOP/s | % of FMA peak | % of SSE2 peak | L2 roof GFLOP/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, flops, bytes, step) in rows {
        let rate = flops / step;
        let intensity = flops / bytes;
        println!(
            "| {name} | {} | {}B | {intensity:.3} | {:.4} | {:.2} | {:.1} % | {:.1} % | {:.1} |",
            si(flops),
            si(bytes),
            step * 1e3,
            gf(rate),
            100.0 * rate / peak,
            100.0 * rate / portable,
            gf((intensity * l2).min(peak)),
        );
    }
    println!(
        "\nW1, W3: 1 thread, median of 100 and 20 steps; W4: median of 1000 steps, {w4_positions:.2} \
         positions per name on average. FLOPs and bytes are counted from the model sizes \
         (formulas in benches/roofline.rs)."
    );
}
