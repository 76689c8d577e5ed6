//! Dense symmetric positive-definite solves for the small (d <= a few hundred) systems of the
//! ridge models.

/// Solves `A X = B` in place for symmetric positive-definite `A` (`d x d`, row-major) and `B`
/// (`d x m`, row-major); `B` becomes `X`. Returns false when `A` is not positive definite.
pub fn solve(a: &mut [f64], d: usize, b: &mut [f64], m: usize) -> bool {
    // Cholesky A = L Lᵀ, L stored in the lower triangle of `a`.
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return false;
        }
        let ljj = s.sqrt();
        a[j * d + j] = ljj;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = s / ljj;
        }
    }
    for c in 0..m {
        // Forward: L y = b.
        for i in 0..d {
            let mut s = b[i * m + c];
            for k in 0..i {
                s -= a[i * d + k] * b[k * m + c];
            }
            b[i * m + c] = s / a[i * d + i];
        }
        // Backward: Lᵀ x = y.
        for i in (0..d).rev() {
            let mut s = b[i * m + c];
            for k in i + 1..d {
                s -= a[k * d + i] * b[k * m + c];
            }
            b[i * m + c] = s / a[i * d + i];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn solves_a_small_system() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 1.0];
        assert!(super::solve(&mut a, 2, &mut b, 1));
        // 4x + 2y = 2, 2x + 3y = 1 -> x = 0.5, y = 0
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12);
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        assert!(!super::solve(&mut singular, 2, &mut [1.0, 1.0], 1));
    }
}
