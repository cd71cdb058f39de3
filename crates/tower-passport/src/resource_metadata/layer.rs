use tower_layer::Layer;

use super::{ResourceMetadata, ResourceMetadataService};

/// Applies [`ResourceMetadataService`]: serves the document at its well-known path and
/// names it in the guard's challenges.
///
/// ```
/// use tower_passport::resource_metadata::{ResourceMetadata, ResourceMetadataLayer};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let metadata = ResourceMetadata::builder("https://api.example.com")
///     .authorization_server("https://auth.example.com")
///     .build()?;
/// let _layer = ResourceMetadataLayer::new(metadata);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ResourceMetadataLayer {
    metadata: ResourceMetadata,
}

impl ResourceMetadataLayer {
    /// Serves `metadata`.
    pub const fn new(metadata: ResourceMetadata) -> Self {
        Self { metadata }
    }

    /// The metadata served.
    pub fn metadata(&self) -> &ResourceMetadata {
        &self.metadata
    }
}

impl<S> Layer<S> for ResourceMetadataLayer {
    type Service = ResourceMetadataService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ResourceMetadataService::new(inner, self.metadata.clone())
    }
}
