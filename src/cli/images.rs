//! The instance-image flags `srl eval`, `srl agent` and `srl replay` share.

use crate::task::images::{ImageNaming, DEFAULT_TAG, SWEBENCH_NAMESPACE};
use crate::task::repos::InstanceImages;

#[derive(clap::Args, Clone, Debug)]
pub struct ImageArgs {
    /// Never pull an instance image: a missing one is an error that says how to build it
    #[arg(long)]
    no_pull: bool,
    /// Registry namespace of SWE-bench instance images (empty: the harness's local names)
    #[arg(long, default_value = SWEBENCH_NAMESPACE)]
    image_namespace: String,
    /// Tag of SWE-bench instance images
    #[arg(long, default_value = DEFAULT_TAG)]
    image_tag: String,
}

impl ImageArgs {
    pub fn images(&self) -> InstanceImages {
        InstanceImages {
            naming: ImageNaming { namespace: self.image_namespace.clone(), tag: self.image_tag.clone() },
            pull: !self.no_pull,
        }
    }
}
