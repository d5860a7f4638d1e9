//! A PersistentVolumeClaim `{service}-{volume}` per volume of the service, and the pod volumes
//! that mount them.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{
        PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource,
        Volume, VolumeResourceRequirements,
    },
    apimachinery::pkg::api::resource::Quantity,
};
use switchyard_domain::Volume as VolumeSpec;

use super::{Context, object};
use crate::{
    Object, RenderError,
    labels::{MOUNT_PATH_ANNOTATION, VOLUME_NAME_ANNOTATION},
    names, quantity,
};

fn claim_name(cx: &Context<'_>, volume: &VolumeSpec) -> Result<String, RenderError> {
    names::dns_label("volume name", &volume.name)?;
    cx.child_name("volume claim name", &volume.name)
}

/// One claim per volume: the requested size, the volume's access mode (ReadWriteOnce by
/// default) and storage class (the cluster's default class when unset; K3s ships `local-path`).
pub(super) fn claims(cx: &Context<'_>) -> Result<Vec<Object>, RenderError> {
    cx.input
        .service
        .spec
        .volumes
        .iter()
        .map(|volume| {
            let mut meta = cx.meta(&claim_name(cx, volume)?);
            meta.annotations = Some(BTreeMap::from([
                (VOLUME_NAME_ANNOTATION.to_owned(), volume.name.clone()),
                (MOUNT_PATH_ANNOTATION.to_owned(), volume.mount_path.clone()),
            ]));
            let size = quantity::bytes("volumes.size", &volume.size)?;
            object(&PersistentVolumeClaim {
                metadata: meta,
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec![
                        volume
                            .access_mode
                            .clone()
                            .unwrap_or_else(|| "ReadWriteOnce".into()),
                    ]),
                    storage_class_name: volume.storage_class_name.clone(),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([("storage".to_owned(), Quantity(size))])),
                        ..VolumeResourceRequirements::default()
                    }),
                    ..PersistentVolumeClaimSpec::default()
                }),
                ..PersistentVolumeClaim::default()
            })
        })
        .collect()
}

/// The pod's volumes, named after the service's volumes (the container mounts them by that name).
pub(super) fn pod_volumes(cx: &Context<'_>) -> Result<Option<Vec<Volume>>, RenderError> {
    let volumes = &cx.input.service.spec.volumes;
    if volumes.is_empty() {
        return Ok(None);
    }
    volumes
        .iter()
        .map(|volume| {
            Ok(Volume {
                name: volume.name.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim_name(cx, volume)?,
                    read_only: None,
                }),
                ..Volume::default()
            })
        })
        .collect::<Result<_, _>>()
        .map(Some)
}
