//! Convolution layers: [`Conv1d`] and [`Conv2d`] with their configs, sharing one
//! implementation (`core`) that owns the 2-D view of the options, the parameters and the
//! padding arithmetic. A 1-D convolution runs as a 2-D one of height 1; only the shapes users
//! see differ.

mod conv1d;
mod conv2d;
mod core;

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

pub use conv1d::{Conv1d, Conv1dConfig};
pub use conv2d::{Conv2d, Conv2dConfig};

/// How a convolution pads its input. In a config: `"valid"`, `"same"`, a number of zeros, or
/// `[height, width]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// No padding: windows lie inside the input.
    #[default]
    Valid,
    /// Enough zeros that the output has `ceil(input / stride)` positions (the input size at
    /// stride 1), split evenly with the odd one after (Keras and PyTorch `padding="same"`).
    Same,
    /// The same number of zeros on both sides of each axis: `[height, width]` (for 1-D
    /// layers only the second entry is used).
    Explicit([usize; 2]),
}

impl From<usize> for Padding {
    /// `p` zeros on every side (`Conv2d::new(32, 3).padding(1)`).
    fn from(p: usize) -> Self {
        Padding::Explicit([p, p])
    }
}

impl From<[usize; 2]> for Padding {
    fn from(p: [usize; 2]) -> Self {
        Padding::Explicit(p)
    }
}

impl Serialize for Padding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Padding::Valid => s.serialize_str("valid"),
            Padding::Same => s.serialize_str("same"),
            Padding::Explicit(p) => crate::config_serde::pair::serialize(p, s),
        }
    }
}

struct PaddingVisitor;

impl<'de> Visitor<'de> for PaddingVisitor {
    type Value = Padding;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"valid\", \"same\", a non-negative integer or [height, width]")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Padding, E> {
        match v {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Padding, E> {
        crate::config_serde::PairVisitor
            .visit_i64(v)
            .map(Padding::Explicit)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Padding, E> {
        crate::config_serde::PairVisitor
            .visit_u64(v)
            .map(Padding::Explicit)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Padding, A::Error> {
        crate::config_serde::PairVisitor
            .visit_seq(seq)
            .map(Padding::Explicit)
    }
}

impl<'de> Deserialize<'de> for Padding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PaddingVisitor)
    }
}

/// The zeros `(before, after)` one axis of `len` gets under `padding`, for a dilated kernel of
/// `effective` taps moved by `stride`; `explicit` is this axis's entry of `Explicit`.
pub(crate) fn axis_padding(
    padding: Padding,
    explicit: usize,
    len: usize,
    effective: usize,
    stride: usize,
) -> (usize, usize) {
    match padding {
        Padding::Valid => (0, 0),
        Padding::Explicit(_) => (explicit, explicit),
        Padding::Same => {
            let out = len.div_ceil(stride.max(1));
            let total = ((out.max(1) - 1) * stride + effective).saturating_sub(len);
            (total / 2, total - total / 2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_keeps_the_size_at_stride_one_and_puts_the_odd_zero_after() {
        assert_eq!(axis_padding(Padding::Same, 0, 28, 3, 1), (1, 1));
        assert_eq!(axis_padding(Padding::Same, 0, 28, 4, 1), (1, 2));
        assert_eq!(axis_padding(Padding::Same, 0, 28, 5, 1), (2, 2));
        // Stride 2 over 7: 4 outputs need (4 − 1)·2 + 3 = 9 positions, 2 zeros.
        assert_eq!(axis_padding(Padding::Same, 0, 7, 3, 2), (1, 1));
    }

    #[test]
    fn padding_reads_and_writes_the_config_forms() {
        for (text, padding) in [
            (r#""valid""#, Padding::Valid),
            (r#""same""#, Padding::Same),
            ("2", Padding::Explicit([2, 2])),
            ("[1,2]", Padding::Explicit([1, 2])),
        ] {
            assert_eq!(serde_json::from_str::<Padding>(text).unwrap(), padding);
            assert_eq!(serde_json::to_string(&padding).unwrap(), text);
        }
        let e = serde_json::from_str::<Padding>(r#""full""#).unwrap_err();
        assert!(e.to_string().contains("\"valid\", \"same\""), "{e}");
    }

    #[test]
    fn valid_and_explicit_padding() {
        assert_eq!(axis_padding(Padding::Valid, 0, 28, 3, 1), (0, 0));
        assert_eq!(axis_padding(Padding::from(2), 2, 28, 3, 1), (2, 2));
    }
}
