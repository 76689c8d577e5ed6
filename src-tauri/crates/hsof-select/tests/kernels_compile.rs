//! Every CUDA kernel (`kernels/*.cu` at the repository root) compiles with NVRTC, to PTX and to
//! CUBINs for the cards the team runs (A100 = sm_80, H100/H200 = sm_90). NVRTC needs no GPU and no
//! driver: the test bootstrap installs PyPI's `nvidia-cuda-nvrtc-cu12` into
//! `~/.cache/hsof-nvrtc-venv` (or point `HSOF_NVRTC_LIB` at a libnvrtc.so.12).
//!
//! Without NVRTC the test is skipped with a message, except under `CI` (set and not `false`/`0`),
//! where a missing NVRTC fails: CI must prove that the kernels compile.

use std::path::{Path, PathBuf};

use hsof_select::cuda::kernels::{compile, Target, SOURCES};
use hsof_select::cuda::loader;

fn kernel_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../kernels");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cu"))
        .collect();
    files.sort();
    files
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

#[test]
fn the_backend_embeds_exactly_the_kernel_files() {
    let on_disk: Vec<String> =
        kernel_files().iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    let mut embedded: Vec<String> = SOURCES.iter().map(|s| s.file.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "kernels/*.cu and hsof_select::cuda::kernels::SOURCES differ");
    for s in SOURCES {
        let disk = std::fs::read_to_string(kernel_files().iter().find(|p| p.ends_with(s.file)).expect("listed"))
            .expect("readable");
        assert_eq!(disk, s.source, "{} changed since this build embedded it", s.file);
    }
}

#[test]
fn every_kernel_compiles_with_nvrtc() {
    if let Err(why) = loader::nvrtc() {
        if in_ci() {
            panic!("CI is set and NVRTC is missing, so the kernels cannot be checked: {why}");
        }
        eprintln!("skipped: {why}\n(run `scripts/bootstrap.sh test` to install it into ~/.cache/hsof-nvrtc-venv)");
        return;
    }
    let mut failures = Vec::new();
    let mut compiled = 0;
    for path in kernel_files() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let source = std::fs::read_to_string(&path).expect("readable kernel");
        let functions = SOURCES.iter().find(|s| s.file == name).map(|s| s.functions).unwrap_or(&[]);
        for target in [Target::Ptx, Target::Cubin { major: 8, minor: 0 }, Target::Cubin { major: 9, minor: 0 }] {
            match compile(&name, &source, target) {
                Ok(image) => {
                    compiled += 1;
                    if target == Target::Ptx {
                        let ptx = image.to_src();
                        for f in functions {
                            if !ptx.contains(&format!(".entry {f}(")) {
                                failures.push(format!("{name}: kernel `{f}` is not in the PTX"));
                            }
                        }
                    }
                }
                Err(e) => failures.push(format!("{target:?}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compiled >= 6, "expected every kernel file compiled three ways, got {compiled}");
}

#[test]
fn a_kernel_with_an_error_fails_with_nvrtcs_log() {
    if loader::nvrtc().is_err() {
        eprintln!("skipped: NVRTC not found");
        return;
    }
    let err = compile("broken.cu", "extern \"C\" __global__ void k(float* x) { x[0] = undeclared; }", Target::Ptx)
        .expect_err("must not compile");
    assert!(err.contains("broken.cu does not compile") && err.contains("undeclared"), "{err}");
}
