//! `fake-kube`: the fake API server as a program, seeded with the HSOF deployment.
//!
//!   cargo run -p hsof-fake-kube -- [--extra-pods N] [--kubelet IMAGE=LOCAL_BINARY]... [--volume CLAIM=LOCAL_DIR]...
//!
//! Prints a kubeconfig path; `kubectl --kubeconfig PATH get pods` works against it. With
//! `--kubelet`, Jobs and pods of that image run the local program (see the crate's
//! `kubelet` module); `--volume` gives a claim's volume a local folder.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let values = |flag: &str| -> Vec<String> {
        args.iter().enumerate().filter(|(_, a)| *a == flag).filter_map(|(i, _)| args.get(i + 1).cloned()).collect()
    };
    let extra = values("--extra-pods").first().and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut store = hsof_fake_kube::Store::default();
    hsof_fake_kube::seed_hsof(&mut store, 3, extra);
    let (images, volumes) = (values("--kubelet"), values("--volume"));
    if !images.is_empty() || !volumes.is_empty() {
        match hsof_fake_kube::Kubelet::from_pairs(&images, &volumes) {
            Ok(k) => store.kubelet = Some(k),
            Err(e) => {
                eprintln!("fake-kube: {e}");
                std::process::exit(2);
            }
        }
    }
    let server = hsof_fake_kube::FakeKube::start(store);
    let path = std::env::temp_dir().join(format!("fake-kube-{}.kubeconfig", std::process::id()));
    if let Err(e) = std::fs::write(&path, server.kubeconfig()) {
        eprintln!("fake-kube: cannot write the kubeconfig: {e}");
        std::process::exit(1);
    }
    println!("fake Kubernetes API at {}\nkubeconfig: {}", server.url, path.display());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
