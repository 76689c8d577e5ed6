//! Finding the CUDA driver (`libcuda.so.1`) and NVRTC (`libnvrtc.so.12`) before cudarc touches
//! them: cudarc panics when a library it needs cannot be loaded, so every entry into the CUDA
//! backend first asks [`driver`] and [`nvrtc`], which only answer yes or no (with the reason).
//!
//! NVRTC is searched for, in order: `$HSOF_NVRTC_LIB` (a file), the NVRTC wheel of the test
//! bootstrap (`$HOME/.cache/hsof-nvrtc-venv`, pip's `nvidia-cuda-nvrtc-cu12`), the CUDA toolkit
//! (`$CUDA_HOME`, `/usr/local/cuda`), then the loader's own path (`LD_LIBRARY_PATH`, ldconfig).
//! A file found is loaded once by its full path and kept loaded; cudarc then opens it by its
//! soname (`libnvrtc.so.12`), which the dynamic loader resolves to the library already loaded.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Environment variable naming the NVRTC library file to use.
pub const ENV_NVRTC_LIB: &str = "HSOF_NVRTC_LIB";

/// The NVRTC library files worth trying, most specific first (existing files only).
pub fn nvrtc_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os(ENV_NVRTC_LIB) {
        out.push(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        let lib = Path::new(&home).join(".cache/hsof-nvrtc-venv/lib");
        if let Ok(entries) = std::fs::read_dir(&lib) {
            let mut pys: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            pys.sort();
            for py in pys.into_iter().rev() {
                dirs.push(py.join("site-packages/nvidia/cuda_nvrtc/lib"));
            }
        }
    }
    for var in ["CUDA_HOME", "CUDA_PATH"] {
        if let Some(root) = std::env::var_os(var) {
            dirs.push(Path::new(&root).join("lib64"));
        }
    }
    dirs.push(PathBuf::from("/usr/local/cuda/lib64"));
    for d in dirs {
        for name in ["libnvrtc.so.12", "libnvrtc.so"] {
            let f = d.join(name);
            if f.is_file() {
                out.push(f);
            }
        }
    }
    out
}

/// Loads `path` and keeps it loaded for the life of the process.
#[allow(unsafe_code)] // loading a library runs its initialisers; NVRTC's and CUDA's are benign
fn keep_loaded(path: &Path) -> Result<(), String> {
    // SAFETY: the library is NVIDIA's NVRTC; loading it has no side effect beyond its own
    // initialisation, and it is never unloaded (forgotten), so no symbol outlives it.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| format!("{}: {e}", path.display()))?;
    std::mem::forget(lib);
    Ok(())
}

/// Whether NVRTC can be used; the error says where it was looked for. Decided once per process.
pub fn nvrtc() -> Result<(), String> {
    static ANSWER: OnceLock<Result<(), String>> = OnceLock::new();
    ANSWER
        .get_or_init(|| {
            let mut tried = Vec::new();
            for c in nvrtc_candidates() {
                match keep_loaded(&c) {
                    Ok(()) => break,
                    Err(e) => tried.push(e),
                }
            }
            if present(|| {
                #[allow(unsafe_code)]
                // SAFETY: only tries to open the library by its usual names; nothing is called.
                unsafe {
                    cudarc::nvrtc::sys::is_culib_present()
                }
            }) {
                Ok(())
            } else {
                let searched = if tried.is_empty() {
                    format!("no libnvrtc file under ${ENV_NVRTC_LIB}, ~/.cache/hsof-nvrtc-venv, $CUDA_HOME or /usr/local/cuda")
                } else {
                    tried.join("; ")
                };
                Err(format!(
                    "NVRTC (libnvrtc.so.12) could not be loaded ({searched}); install the CUDA toolkit or \
                     `pip install nvidia-cuda-nvrtc-cu12` and set {ENV_NVRTC_LIB} to its libnvrtc.so.12"
                ))
            }
        })
        .clone()
}

/// Whether the CUDA driver library can be loaded. Decided once per process.
pub fn driver() -> Result<(), String> {
    static ANSWER: OnceLock<Result<(), String>> = OnceLock::new();
    ANSWER
        .get_or_init(|| {
            if present(|| {
                #[allow(unsafe_code)]
                // SAFETY: only tries to open the library by its usual names; nothing is called.
                unsafe {
                    cudarc::driver::sys::is_culib_present()
                }
            }) {
                Ok(())
            } else {
                Err("no NVIDIA driver on this machine (libcuda.so.1 could not be loaded)".into())
            }
        })
        .clone()
}

/// Runs a probe, counting a panic inside it as "absent".
fn present(probe: impl FnOnce() -> bool + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(probe).unwrap_or(false)
}
