//! One typed method per RPC on [`Client`](crate::Client).
//!
//! The uniform Get/List/Update/Delete methods come from one macro; creates,
//! answers, the feed and the reports are written out in their modules.

mod content;
mod feed;
mod network;

/// The caller's idempotency key, or a fresh UUID v4; made once per call so
/// every retry of a create carries the same one.
pub(crate) fn request_id_or_new(given: Option<String>) -> String {
    given.filter(|id| !id.is_empty()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub(crate) fn field_mask(paths: impl IntoIterator<Item = impl Into<String>>) -> prost_types::FieldMask {
    prost_types::FieldMask { paths: paths.into_iter().map(Into::into).collect() }
}

/// Get, List (one page and every page), Update and Delete of one resource.
macro_rules! standard_methods {
    (
        $noun:literal, $resource:ident, $service:ident;
        get: $get:ident($get_request:ident);
        list: $list:ident($list_request:ident) -> $list_response:ident, every page: $stream:ident;
        update: $update:ident($update_request:ident { $field:ident });
        delete: $delete:ident($delete_request:ident);
    ) => {
        impl crate::Client {
            #[doc = concat!("Get one ", $noun, " by resource name. Retried: a read.")]
            pub async fn $get(&self, name: impl Into<String>) -> Result<pb::$resource, Error> {
                let request = pb::$get_request { name: name.into() };
                self.call(Replay::Safe, request, |c, r| async move { c.$service().$get(r).await }).await
            }

            #[doc = concat!("One page of ", $noun, "s; see [`Self::", stringify!($stream), "`] for all of them.")]
            pub async fn $list(&self, request: pb::$list_request) -> Result<pb::$list_response, Error> {
                self.call(Replay::Safe, request, |c, r| async move { c.$service().$list(r).await }).await
            }

            #[doc = concat!("Every ", $noun, " `request` selects, following page tokens lazily.")]
            pub fn $stream(
                &self,
                request: pb::$list_request,
            ) -> impl futures::Stream<Item = Result<pb::$resource, Error>> + Send + 'static {
                self.paginate(request)
            }

            #[doc = concat!(
                                "Change the fields of `", stringify!($field), "` named in `update_mask`; `",
                                stringify!($field), ".name` says which ", $noun, ". Retried only when `",
                                stringify!($field), ".etag` is set (see [`crate::RetryPolicy`])."
                            )]
            pub async fn $update(
                &self,
                $field: pb::$resource,
                update_mask: impl IntoIterator<Item = impl Into<String>>,
            ) -> Result<pb::$resource, Error> {
                let replay = Replay::guarded_by(&$field.etag);
                let request = pb::$update_request {
                    $field: Some($field),
                    update_mask: Some(crate::rpc::field_mask(update_mask)),
                };
                self.call(replay, request, |c, r| async move { c.$service().$update(r).await }).await
            }

            #[doc = concat!(
                                "Archive a ", $noun, " (soft delete), if `etag` is given only at that version. ",
                                "Retried only with an etag."
                            )]
            pub async fn $delete(&self, name: impl Into<String>, etag: Option<String>) -> Result<pb::$resource, Error> {
                let etag = etag.unwrap_or_default();
                let replay = Replay::guarded_by(&etag);
                let request = pb::$delete_request { name: name.into(), etag };
                self.call(replay, request, |c, r| async move { c.$service().$delete(r).await }).await
            }
        }
    };
}
pub(crate) use standard_methods;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_or_made_fresh() {
        assert_eq!(request_id_or_new(Some("mine".into())), "mine");
        let made = request_id_or_new(None);
        assert_eq!(uuid::Uuid::parse_str(&made).map(|u| u.get_version_num()).ok(), Some(4));
        assert_ne!(request_id_or_new(Some(String::new())), "", "an empty id counts as none");
        assert_ne!(made, request_id_or_new(None));
    }
}
