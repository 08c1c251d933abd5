//! placeholder
use crate::suite::Property;
use strata_backend::Backend;
/// The properties of this family.
pub fn properties<B: Backend>() -> Vec<Property<B>> {
    Vec::new()
}
