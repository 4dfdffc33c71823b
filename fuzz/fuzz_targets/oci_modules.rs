// The OCI config mappers, as the `oci` module of a fuzz target (a file of
// its own: #[path] inside an inline module resolves below a directory that
// does not exist).
#[path = "../../src/oci/cgroups.rs"]
pub mod cgroups;
#[path = "../../src/oci/config.rs"]
pub mod config;
#[path = "../../src/oci/mounts.rs"]
pub mod mounts;

/// oci::fail, which prints the line; the fuzz targets only need its code.
pub fn fail(_parts: &[&[u8]]) -> i32 {
    1
}
