//! `fake-kube`: the fake API server as a program, seeded with the HSOF deployment.
//!
//!   cargo run -p hsof-fake-kube -- [--extra-pods N]
//!
//! Prints a kubeconfig path; `kubectl --kubeconfig PATH get pods` works against it.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let extra = args
        .iter()
        .position(|a| a == "--extra-pods")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut store = hsof_fake_kube::Store::default();
    hsof_fake_kube::seed_hsof(&mut store, 3, extra);
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
