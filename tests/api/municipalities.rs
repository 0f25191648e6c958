//! MunicipalityService end to end, and the helpers the other suites use to
//! build the network through the API.

use peerlab_client::{Client, pb};
use peerlab_core::auth::Role;
use peerlab_core::domain::MunicipalityId;
use peerlab_testkit::{Backend, seed};
use prost_types::FieldMask;
use tonic::Code;

use crate::support::spawn_app;

/// An update mask of `paths`.
pub fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

/// The fields named by the `BadRequest` details of an error.
pub fn fields(status: tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    peerlab_client::Error::from(status).field_violations().into_iter().map(|(f, _)| f).collect()
}

/// The id in `municipalities/{id}`.
pub fn municipality_id(name: &str) -> MunicipalityId {
    peerlab_service::names::municipality("name", name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Add a municipality through the API (as `client`, a coordinator or the country's admin).
pub async fn add(client: &Client, display_name: &str, country: &str) -> MunicipalityId {
    let m = client
        .municipalities()
        .create_municipality(pb::CreateMunicipalityRequest {
            municipality: Some(pb::Municipality {
                display_name: display_name.into(),
                country: country.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("create {display_name}: {e:?}"))
        .into_inner();
    municipality_id(&m.name)
}

async fn create_get_list_update_archive(backend: Backend) {
    let app = spawn_app(backend).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let created = coordinator
        .municipalities()
        .create_municipality(pb::CreateMunicipalityRequest {
            municipality: Some(pb::Municipality {
                display_name: "Mostar".into(),
                country: "ba".into(),
                ..Default::default()
            }),
            request_id: "m-1".into(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, "municipalities/1");
    assert_eq!(created.country, "BA");
    assert_eq!(created.etag, "v1");
    assert!(created.create_time.is_some() && created.archive_time.is_none());
    add(&coordinator, "Niš", "RS").await;

    // The directory is readable by everyone authenticated.
    let staff = app.client(&app.staff_token("RS", MunicipalityId::parse("m", 2).expect("id"))).await;
    let read = staff
        .municipalities()
        .get_municipality(pb::GetMunicipalityRequest { name: created.name.clone() })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(read, created);
    let list = staff
        .municipalities()
        .list_municipalities(pb::ListMunicipalitiesRequest { filter: r#"country = "BA""#.into(), ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(list.municipalities, vec![created.clone()]);
    assert!(list.next_page_token.is_empty());

    let renamed = coordinator
        .municipalities()
        .update_municipality(pb::UpdateMunicipalityRequest {
            municipality: Some(pb::Municipality {
                name: created.name.clone(),
                display_name: "Grad Mostar".into(),
                country: "RS".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(renamed.display_name, "Grad Mostar");
    assert_eq!(renamed.country, "BA", "country is not in the mask and is immutable");
    assert_eq!(renamed.etag, "v2");

    let stale = coordinator
        .municipalities()
        .update_municipality(pb::UpdateMunicipalityRequest {
            municipality: Some(pb::Municipality {
                name: created.name.clone(),
                display_name: "Again".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        })
        .await
        .expect_err("stale etag");
    assert_eq!(stale.code(), Code::Aborted);

    let archived = coordinator
        .municipalities()
        .delete_municipality(pb::DeleteMunicipalityRequest { name: created.name.clone(), etag: renamed.etag.clone() })
        .await
        .expect("archive")
        .into_inner();
    assert!(archived.archive_time.is_some());
    let active = staff
        .municipalities()
        .list_municipalities(pb::ListMunicipalitiesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(active.municipalities.iter().map(|m| m.display_name.as_str()).collect::<Vec<_>>(), vec!["Niš"]);
    let all = staff
        .municipalities()
        .list_municipalities(pb::ListMunicipalitiesRequest { show_archived: true, ..Default::default() })
        .await
        .expect("list archived")
        .into_inner();
    assert_eq!(all.municipalities.len(), 2);
}

async fn country_admins_manage_only_their_country(backend: Backend) {
    let app = spawn_app(backend).await;
    let ba_admin = app.client(&app.token(Role::CountryAdmin, Some("BA"), None)).await;
    let tuzla = add(&ba_admin, "Tuzla", "BA").await;
    let denied = ba_admin
        .municipalities()
        .create_municipality(pb::CreateMunicipalityRequest {
            municipality: Some(pb::Municipality {
                display_name: "Niš".into(),
                country: "RS".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("BA admin creating in RS");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(seed::count(&app.db.store, "municipalities").await, 1);

    // Staff of the municipality may not rename it either.
    let staff = app.client(&app.staff_token("BA", tuzla)).await;
    let denied = staff
        .municipalities()
        .update_municipality(pb::UpdateMunicipalityRequest {
            municipality: Some(pb::Municipality {
                name: format!("municipalities/{tuzla}"),
                display_name: "Tuzla City".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        })
        .await
        .expect_err("staff renaming");
    assert_eq!(denied.code(), Code::PermissionDenied);
}

async fn bad_input_names_the_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let err = coordinator
        .municipalities()
        .create_municipality(pb::CreateMunicipalityRequest {
            municipality: Some(pb::Municipality {
                name: "municipalities/99".into(),
                display_name: "  ".into(),
                country: "Bosnia".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(fields(err), vec!["municipality.display_name", "municipality.country"]);
    assert_eq!(seed::count(&app.db.store, "municipalities").await, 0);
    assert_eq!(seed::count(&app.db.store, "events").await, 0);

    let mostar = add(&coordinator, "Mostar", "BA").await;
    let err = coordinator
        .municipalities()
        .update_municipality(pb::UpdateMunicipalityRequest {
            municipality: Some(pb::Municipality {
                name: format!("municipalities/{mostar}"),
                country: "RS".into(),
                ..Default::default()
            }),
            update_mask: mask(&["country"]),
        })
        .await
        .expect_err("country is immutable");
    assert_eq!(fields(err), vec!["update_mask"]);
    let err = coordinator
        .municipalities()
        .get_municipality(pb::GetMunicipalityRequest { name: "towns/1".into() })
        .await
        .expect_err("bad name");
    assert_eq!(fields(err), vec!["name"]);
}

async fn create_is_idempotent_by_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let request = pb::CreateMunicipalityRequest {
        municipality: Some(pb::Municipality {
            display_name: "Mostar".into(),
            country: "BA".into(),
            ..Default::default()
        }),
        request_id: "8c1f7a52-mostar".into(),
    };
    let first = coordinator.municipalities().create_municipality(request.clone()).await.expect("first").into_inner();
    let retry = coordinator.municipalities().create_municipality(request.clone()).await.expect("retry").into_inner();
    assert_eq!(retry.name, first.name);
    assert_eq!(seed::count(&app.db.store, "municipalities").await, 1);
    assert_eq!(seed::count(&app.db.store, "events").await, 1);
    // The same id for a different request is an error, not a silent replay.
    let mut other = request;
    other.municipality =
        Some(pb::Municipality { display_name: "Tuzla".into(), country: "BA".into(), ..Default::default() });
    let err = coordinator.municipalities().create_municipality(other).await.expect_err("reused id");
    assert_eq!(fields(err), vec!["request_id"]);
}

peerlab_testkit::on_both_backends!(
    create_get_list_update_archive,
    country_admins_manage_only_their_country,
    bad_input_names_the_fields,
    create_is_idempotent_by_request_id,
);
