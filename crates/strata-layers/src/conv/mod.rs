//! Convolution layers: [`Conv1d`] and [`Conv2d`], sharing one implementation (`core`) that
//! owns the options, the parameters and the padding arithmetic. A 1-D convolution runs as a
//! 2-D one of height 1; only the shapes users see differ.

mod conv1d;
mod conv2d;
mod core;

pub use conv1d::Conv1d;
pub use conv2d::Conv2d;

/// How a convolution pads its input.
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
    fn valid_and_explicit_padding() {
        assert_eq!(axis_padding(Padding::Valid, 0, 28, 3, 1), (0, 0));
        assert_eq!(axis_padding(Padding::from(2), 2, 28, 3, 1), (2, 2));
    }
}
