//! `Tensor`: a cheap handle to a contiguous row-major `f32` buffer on one device.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use strata_backend::{BufferOps, RandomOps, Shape};

use crate::autograd::Node;
use crate::storage::{Storage, on_device, with_buffer};
use crate::{Device, Error, Result};

/// A stable identifier of a tensor, used as the key of [`crate::Gradients`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// An n-dimensional array of `f32` on a [`Device`], with optional gradient tracking.
///
/// Cloning is cheap (an `Arc`). Operations return new tensors; reshapes share storage. A
/// *variable* ([`Tensor::variable`]) is a leaf whose gradient [`Tensor::backward`] reports;
/// optimizers update variables in place, keeping their [`TensorId`].
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    id: TensorId,
    shape: Shape,
    device: Device,
    storage: Arc<RwLock<Storage>>,
    is_variable: bool,
    requires_grad: bool,
    pub(crate) node: Mutex<Option<Node>>,
}

impl Tensor {
    pub(crate) fn from_parts(
        storage: Arc<RwLock<Storage>>,
        shape: Shape,
        node: Option<Node>,
    ) -> Self {
        let device = storage.read().unwrap_or_else(|e| e.into_inner()).device();
        let requires_grad = node.is_some();
        Tensor(Arc::new(Inner {
            id: TensorId::fresh(),
            shape,
            device,
            storage,
            is_variable: false,
            requires_grad,
            node: Mutex::new(node),
        }))
    }

    /// A tensor sharing `y`'s storage that carries the recorded `node`.
    pub(crate) fn from_parts_shared(y: &Tensor, node: Node) -> Self {
        Tensor::from_parts(y.0.storage.clone(), y.shape().clone(), Some(node))
    }

    /// A new tensor from freshly computed storage and an optional recorded backward node.
    pub(crate) fn from_storage(storage: Storage, shape: Shape, node: Option<Node>) -> Self {
        Tensor::from_parts(Arc::new(RwLock::new(storage)), shape, node)
    }

    /// A tensor holding `data` with dimensions `shape`, on `device`.
    pub fn from_vec(data: Vec<f32>, shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        let shape = shape.into();
        if data.len() != shape.elem_count() {
            return Err(Error::shape(
                "from_vec",
                format!(
                    "{} values cannot fill shape {shape} ({} elements)",
                    data.len(),
                    shape.elem_count()
                ),
            ));
        }
        let storage = on_device!(device, |b| b.from_host_vec(data));
        Ok(Tensor::from_storage(storage, shape, None))
    }

    /// A tensor copied from `data`.
    pub fn from_slice(data: &[f32], shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        Tensor::from_vec(data.to_vec(), shape, device)
    }

    /// A tensor of `shape` filled with `value`.
    pub fn full(value: f32, shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        let shape = shape.into();
        let n = shape.elem_count();
        let storage = on_device!(device, |b| b.full(n, value));
        Ok(Tensor::from_storage(storage, shape, None))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        Tensor::full(0.0, shape, device)
    }

    /// A tensor of ones.
    pub fn ones(shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        Tensor::full(1.0, shape, device)
    }

    /// A zero-dimensional tensor holding `value`.
    pub fn scalar(value: f32, device: &Device) -> Result<Tensor> {
        Tensor::full(value, (), device)
    }

    /// Draws uniform in `[low, high)` with the counter-based generator: the same `seed` gives
    /// the same tensor on every device.
    pub fn rand_uniform(
        shape: impl Into<Shape>,
        low: f32,
        high: f32,
        seed: u64,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let n = shape.elem_count();
        let storage = on_device!(device, |b| b.random_uniform(n, low, high, seed));
        Ok(Tensor::from_storage(storage, shape, None))
    }

    /// Draws from `N(mean, std²)` with the counter-based generator.
    pub fn rand_normal(
        shape: impl Into<Shape>,
        mean: f32,
        std: f32,
        seed: u64,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let n = shape.elem_count();
        let storage = on_device!(device, |b| b.random_normal(n, mean, std, seed));
        Ok(Tensor::from_storage(storage, shape, None))
    }

    /// This tensor's stable identifier.
    pub fn id(&self) -> TensorId {
        self.0.id
    }
    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.0.shape
    }
    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        self.0.shape.dims()
    }
    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.shape.rank()
    }
    /// Number of elements.
    pub fn elem_count(&self) -> usize {
        self.0.shape.elem_count()
    }
    /// The device.
    pub fn device(&self) -> Device {
        self.0.device
    }
    /// Whether this tensor is a variable (a leaf whose gradient `backward` reports).
    pub fn is_variable(&self) -> bool {
        self.0.is_variable
    }
    /// Whether gradients flow through this tensor (a variable, or the result of a recorded op).
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// A new variable sharing this tensor's data: a leaf with a fresh id whose gradient
    /// `backward` reports. Layers create their parameters this way.
    pub fn variable(&self) -> Tensor {
        Tensor(Arc::new(Inner {
            id: TensorId::fresh(),
            shape: self.0.shape.clone(),
            device: self.0.device,
            storage: self.0.storage.clone(),
            is_variable: true,
            requires_grad: true,
            node: Mutex::new(None),
        }))
    }

    /// A tensor sharing this one's data, cut from the graph: no gradient flows through it.
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), self.0.shape.clone(), None)
    }

    /// Same data viewed with another shape of the same element count. Shares storage;
    /// gradients flow back reshaped.
    pub fn reshape(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape.elem_count() != self.elem_count() {
            return Err(Error::shape(
                "reshape",
                format!(
                    "cannot view {} ({} elements) as {shape} ({} elements)",
                    self.shape(),
                    self.elem_count(),
                    shape.elem_count()
                ),
            ));
        }
        let in_shape = self.shape().clone();
        let node = crate::autograd::record("reshape", &[self], move || {
            move |g: &Tensor, _: &[Tensor]| Ok(vec![Some(g.reshape(in_shape)?)])
        });
        Ok(Tensor::from_parts(self.0.storage.clone(), shape, node))
    }

    /// Copies the data to the host.
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        let guard = self.read();
        Ok(with_buffer!(&*guard, |b, x| {
            strata_backend::BufferOps::to_host(b, x)
        })?)
    }

    /// The single value of a one-element tensor.
    pub fn to_scalar(&self) -> Result<f32> {
        if self.elem_count() != 1 {
            return Err(Error::shape(
                "to_scalar",
                format!(
                    "tensor of shape {} has {} elements, not 1",
                    self.shape(),
                    self.elem_count()
                ),
            ));
        }
        Ok(self.to_vec()?[0])
    }

    /// A copy of this tensor on `device` (shares nothing; gradients do not flow across).
    pub fn to_device(&self, device: &Device) -> Result<Tensor> {
        if *device == self.device() {
            return Ok(self.clone());
        }
        Tensor::from_vec(self.to_vec()?, self.shape().clone(), device)
    }

    /// Overwrites this tensor's data with `src`'s (same shape), in place: every handle sharing
    /// the storage sees the new values and the id is kept. Used to load weights and restore
    /// checkpoints. No gradient is recorded.
    pub fn assign(&self, src: &Tensor) -> Result<()> {
        if src.shape() != self.shape() {
            return Err(Error::shape(
                "assign",
                format!(
                    "destination is {} but source is {}",
                    self.shape(),
                    src.shape()
                ),
            ));
        }
        if Arc::ptr_eq(&self.0.storage, &src.0.storage) {
            return Ok(());
        }
        let copied = {
            let guard = src.read();
            crate::storage::map_buffer!(&*guard, |b, x| strata_backend::BufferOps::copy(b, x))
        };
        if copied.device() != self.device() {
            return Err(Error::DeviceMismatch {
                op: "assign",
                lhs: self.device().to_string(),
                rhs: src.device().to_string(),
            });
        }
        *self.write() = copied;
        Ok(())
    }

    /// A deep copy with its own storage (not recorded).
    pub fn deep_clone(&self) -> Result<Tensor> {
        let guard = self.read();
        let storage =
            crate::storage::map_buffer!(&*guard, |b, x| strata_backend::BufferOps::copy(b, x));
        Ok(Tensor::from_storage(storage, self.shape().clone(), None))
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Storage> {
        self.0.storage.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Storage> {
        self.0.storage.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn shares_storage_with(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor[{} on {}", self.shape(), self.device())?;
        if self.is_variable() {
            write!(f, ", variable")?;
        }
        if self.elem_count() <= 16
            && let Ok(v) = self.to_vec()
        {
            write!(f, ", {v:?}")?;
        }
        write!(f, "]")
    }
}
