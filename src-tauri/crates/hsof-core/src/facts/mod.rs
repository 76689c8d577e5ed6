//! Facts about this machine that Overview and `hsofctl doctor` show: each reader is a
//! plain function that never fails, turning absence into an explained state.

mod gpu;
mod host;
mod kube;

pub use gpu::{read_gpus, GpuDevice, GpuFacts};
pub use host::{read_host, HostFacts};
pub use kube::{read_kubeconfig, KubeContext, KubeFacts};
