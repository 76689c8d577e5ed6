//! Fake API servers as the named clusters of a `[[clusters]]` list, each with its own HSOF
//! exporter, and the real `kubectl` against each: what the fleet and DR suites share.

use std::path::{Path, PathBuf};

use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_tests::exporter::{Exporter, Script};

/// One cluster: its fake API server (seeded with HSOF at `replicas`), a kubeconfig whose
/// context is the cluster's name, and its HSOF health endpoints.
pub struct Region {
    kube: Option<FakeKube>,
    pub kubeconfig: PathBuf,
    pub exporter: Exporter,
}

impl Region {
    pub fn start(dir: &Path, name: &str, replicas: i64) -> Self {
        let mut store = Store::default();
        seed_hsof(&mut store, replicas, 0);
        let kube = FakeKube::start(store);
        let kubeconfig = dir.join(format!("kubeconfig-{name}"));
        std::fs::write(&kubeconfig, kube.kubeconfig_named(name, &format!("{name}-admin"), "hsof")).expect("kubeconfig");
        Region { kube: Some(kube), kubeconfig, exporter: Exporter::start(Script::default()) }
    }

    /// The API server (while it runs).
    pub fn kube(&self) -> &FakeKube {
        self.kube.as_ref().expect("the API server was stopped")
    }

    /// Stops the API server: the cluster is unreachable from now on.
    pub fn stop(&mut self) {
        drop(self.kube.take());
    }

    /// The real kubectl against this cluster, in namespace hsof; panics when it fails.
    pub fn kubectl(&self, args: &[&str]) -> String {
        crate::kubectl_at(&self.kubeconfig, args)
    }

    /// Its `[[clusters]]` entry (Prometheus and AlertManager at a closed port: not read).
    pub fn entry(&self, name: &str, role: &str) -> String {
        format!(
            "[[clusters]]\nname = \"{name}\"\nrole = \"{role}\"\nkubeconfig = \"{}\"\ncontext = \"{name}\"\nhsof_health_url = \"{}\"\nprometheus_url = \"http://127.0.0.1:9\"\nalertmanager_url = \"http://127.0.0.1:9\"\n\n",
            self.kubeconfig.display(),
            self.exporter.url()
        )
    }
}
