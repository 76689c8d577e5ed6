//! Image references as container runtimes read them: `nginx` is
//! `docker.io/library/nginx:latest`, a first part with a dot, a colon or `localhost` is a
//! registry host, `@sha256:…` a digest.

use serde::{Deserialize, Serialize};

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImageRef {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// `library/nginx`, `hsof/hsof`.
    pub repository: String,
    /// The tag, when one is named (`latest` when neither tag nor digest is).
    pub tag: Option<String>,
    /// The digest, when one is named.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `image`; `None` for an empty or malformed reference.
    pub fn parse(image: &str) -> Option<Self> {
        let image = image.trim();
        if image.is_empty() || image.contains(char::is_whitespace) {
            return None;
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) if d.contains(':') => (r, Some(d.to_string())),
            Some(_) => return None,
            None => (image, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (first.to_string(), path.to_string())
            }
            _ => ("docker.io".to_string(), rest.to_string()),
        };
        // A tag is after the last colon of the last path part.
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), Some(tag.to_string())),
            _ => (path, None),
        };
        if repository.is_empty() {
            return None;
        }
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let tag = tag.or_else(|| digest.is_none().then(|| "latest".to_string()));
        Some(Self { registry, repository, tag, digest })
    }

    /// The host the API answers on (`docker.io` is served by `registry-1.docker.io`).
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_as_runtimes_read_them() {
        let r = ImageRef::parse("nginx").expect("ok");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/nginx", Some("latest"))
        );
        let r = ImageRef::parse("127.0.0.1:5000/hsof/hsof:1.5.0").expect("ok");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "hsof/hsof", Some("1.5.0"))
        );
        let r = ImageRef::parse("ghcr.io/a/b@sha256:abc").expect("ok");
        assert_eq!((r.tag, r.digest.as_deref()), (None, Some("sha256:abc")));
        let r = ImageRef::parse("hsof/hsof:1.5.0@sha256:abc").expect("ok");
        assert_eq!(
            (r.tag.as_deref(), r.digest.as_deref(), r.registry.as_str()),
            (Some("1.5.0"), Some("sha256:abc"), "docker.io")
        );
        let r = ImageRef::parse("localhost/x").expect("ok");
        assert_eq!(r.registry, "localhost");
        assert!(
            ImageRef::parse("").is_none()
                && ImageRef::parse("a b").is_none()
                && ImageRef::parse("x@nodigest").is_none()
        );
        assert_eq!(ImageRef::parse("nginx").expect("ok").api_host(), "registry-1.docker.io");
    }
}
