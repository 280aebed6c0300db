//! `trunc`, `floor`, `ceil` and `round` for f64 without libm. In a no_std crate the
//! float methods of std are not there, and libm's portable versions (wasm's own
//! `f64.floor` needs its unstable intrinsics) cost about 500 B of wasm for what a
//! saturating `as i64` (one `i64.trunc_sat_f64_s`) does for every f64 that has a
//! fraction at all. Results equal libm's (and std's), signed zeros included.

/// 2^52: from here on every f64 is a whole number.
const WHOLE: f64 = 4_503_599_627_370_496.0;

/// Towards zero.
pub fn trunc(x: f64) -> f64 {
    if x.abs() < WHOLE {
        (x as i64 as f64).copysign(x)
    } else {
        x // whole already, infinite or NaN
    }
}

/// Towards minus infinity.
pub fn floor(x: f64) -> f64 {
    let t = trunc(x);
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// Towards plus infinity.
pub fn ceil(x: f64) -> f64 {
    -floor(-x)
}

/// To the nearest whole number, halves away from zero. `x - trunc(x)` is exact, so
/// the comparison with one half is too (`trunc(x + 0.5)` is not: 0.49999999999999994).
pub fn round(x: f64) -> f64 {
    let t = trunc(x);
    if (x - t).abs() >= 0.5 {
        t + 1.0f64.copysign(x)
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against std's (which are the hardware's).
    fn agrees(x: f64) {
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        assert!(same(trunc(x), x.trunc()), "trunc {x:e}");
        assert!(same(floor(x), x.floor()), "floor {x:e}");
        assert!(same(ceil(x), x.ceil()), "ceil {x:e}");
        assert!(same(round(x), x.round()), "round {x:e}");
    }

    #[test]
    fn edges_match_std() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            WHOLE,
            -WHOLE,
            9_007_199_254_740_993.0,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1_700_000_000_999.9,
        ] {
            agrees(x);
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_double_matches_std(bits in proptest::prelude::any::<u64>()) {
            agrees(f64::from_bits(bits));
        }

        #[test]
        fn any_fraction_matches_std(x in -1e16f64..1e16) {
            agrees(x);
        }
    }
}
