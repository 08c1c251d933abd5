//! Serde forms the layer configs share: a per-axis size written `3` or `[3, 5]`, and the
//! empty table (`{}`; `{ type = "relu" }` in a config file) of a layer without settings.
//!
//! The messages are serde's own (`invalid type: ..., expected ...`), so a config reader that
//! tracks the key path can report them against the exact key.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};

/// `[usize; 2]` written as one number when both axes agree (`3`) and as `[h, w]` otherwise;
/// both forms read. For `#[serde(with = "crate::config_serde::pair")]`.
pub(crate) mod pair {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[usize; 2], s: S) -> Result<S::Ok, S::Error> {
        if v[0] == v[1] {
            s.serialize_u64(v[0] as u64)
        } else {
            s.collect_seq(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[usize; 2], D::Error> {
        d.deserialize_any(PairVisitor)
    }
}

/// [`pair`] for an optional size (`None` is left out when writing).
pub(crate) mod opt_pair {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<[usize; 2]>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::pair::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[usize; 2]>, D::Error> {
        super::pair::deserialize(d).map(Some)
    }
}

pub(crate) struct PairVisitor;

impl<'de> Visitor<'de> for PairVisitor {
    type Value = [usize; 2];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer or a pair [height, width]")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<[usize; 2], E> {
        usize::try_from(v)
            .map(|n| [n, n])
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<[usize; 2], E> {
        usize::try_from(v)
            .map(|n| [n, n])
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[usize; 2], A::Error> {
        let h: usize = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let w: usize = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<usize>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok([h, w])
    }
}

/// Writes a layer without settings as an empty table.
pub(crate) fn serialize_empty<S: Serializer>(name: &'static str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_struct(name, 0)?.end()
}

/// Reads the empty table of a layer without settings; any key is an unknown field (`unknown
/// field `units`, there are no fields`).
pub(crate) fn deserialize_empty<'de, D: Deserializer<'de>>(
    name: &'static str,
    d: D,
) -> Result<(), D::Error> {
    struct Empty;
    impl<'de> Visitor<'de> for Empty {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a table with no keys")
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            match map.next_key::<String>()? {
                Some(key) => Err(de::Error::unknown_field(&key, &[])),
                None => Ok(()),
            }
        }
    }
    d.deserialize_struct(name, &[], Empty)
}

/// Implements `Serialize` and `Deserialize` for unit-struct layers as the empty table.
macro_rules! empty_table_serde {
    ($($name:ident),* $(,)?) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                $crate::config_serde::serialize_empty(stringify!($name), s)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                $crate::config_serde::deserialize_empty(stringify!($name), d).map(|()| $name)
            }
        }
    )*};
}

pub(crate) use empty_table_serde;

/// `true`, the default of most switches (`bias`, `affine`, `count_include_pad`).
pub(crate) fn yes() -> bool {
    true
}

/// `1`, the default stride, dilation and group count.
pub(crate) fn one() -> usize {
    1
}

/// `[1, 1]`, the default 2-D stride and dilation.
pub(crate) fn ones() -> [usize; 2] {
    [1, 1]
}
