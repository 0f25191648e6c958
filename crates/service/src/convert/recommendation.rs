//! Recommendation conversions.

use peerlab_core::domain::*;
use peerlab_core::error::Violations;
use peerlab_core::model::{
    Answer, ItemRef, NewAnswer, NewRecommendation, Recommendation, RecommendationPatch, Target, names,
};
use peerlab_core::{Error, Result};
use peerlab_proto::v1 as pb;
use prost_types::FieldMask;

use super::common::*;
use crate::names as parse;

/// A core kind on the wire.
pub fn recommendation_kind(k: RecommendationKind) -> pb::RecommendationKind {
    match k {
        RecommendationKind::Suggestion => pb::RecommendationKind::Suggestion,
        RecommendationKind::GoodPractice => pb::RecommendationKind::GoodPractice,
        RecommendationKind::Contact => pb::RecommendationKind::Contact,
        RecommendationKind::Resource => pb::RecommendationKind::Resource,
        RecommendationKind::Caution => pb::RecommendationKind::Caution,
    }
}

/// A wire kind in the core; unset is `None`.
pub fn recommendation_kind_in(field: &str, raw: i32) -> Result<Option<RecommendationKind>> {
    enum_in(field, raw, |k: pb::RecommendationKind| match k {
        pb::RecommendationKind::Unspecified => None,
        pb::RecommendationKind::Suggestion => Some(RecommendationKind::Suggestion),
        pb::RecommendationKind::GoodPractice => Some(RecommendationKind::GoodPractice),
        pb::RecommendationKind::Contact => Some(RecommendationKind::Contact),
        pb::RecommendationKind::Resource => Some(RecommendationKind::Resource),
        pb::RecommendationKind::Caution => Some(RecommendationKind::Caution),
    })
}

/// A core answer state on the wire.
pub fn answer_state(s: AnswerState) -> pb::AnswerState {
    match s {
        AnswerState::Unanswered => pb::AnswerState::Unanswered,
        AnswerState::Acknowledged => pb::AnswerState::Acknowledged,
        AnswerState::Adopted => pb::AnswerState::Adopted,
        AnswerState::Declined => pb::AnswerState::Declined,
    }
}

/// A wire answer state in the core; unset is `None`.
pub fn answer_state_in(field: &str, raw: i32) -> Result<Option<AnswerState>> {
    enum_in(field, raw, |s: pb::AnswerState| match s {
        pb::AnswerState::Unspecified => None,
        pb::AnswerState::Unanswered => Some(AnswerState::Unanswered),
        pb::AnswerState::Acknowledged => Some(AnswerState::Acknowledged),
        pb::AnswerState::Adopted => Some(AnswerState::Adopted),
        pb::AnswerState::Declined => Some(AnswerState::Declined),
    })
}

/// A recommendation's target by resource name.
pub fn target(t: Target) -> String {
    match t {
        Target::Challenge(r) => names::challenge(r.municipality, r.id),
        Target::Initiative(r) => names::initiative(r.municipality, r.id),
        Target::ProjectIdea(r) => names::project_idea(r.municipality, r.id),
    }
}

fn answer(a: Answer) -> pb::Answer {
    let Answer { state, note, answer_time } = a;
    pb::Answer { state: answer_state(state) as i32, note, answer_time: answer_time.map(timestamp) }
}

/// A recommendation on the wire.
pub fn recommendation(r: Recommendation) -> pb::Recommendation {
    let Recommendation {
        id,
        working_group,
        municipality,
        country,
        target: t,
        target_country,
        kind,
        body,
        author_initiative,
        answer: a,
        meta: m,
    } = r;
    let WireMeta { create_time, update_time, archive_time, etag } = meta(m);
    pb::Recommendation {
        name: names::recommendation(municipality, id),
        target: target(t),
        kind: recommendation_kind(kind) as i32,
        body,
        author_initiative: author_initiative.map(|i| names::initiative(i.municipality, i.id)).unwrap_or_default(),
        working_group: names::working_group(working_group),
        municipality: names::municipality(municipality),
        country: country.to_string(),
        target_municipality: names::municipality(t.municipality()),
        target_country: target_country.to_string(),
        answer: Some(answer(a)),
        create_time,
        update_time,
        archive_time,
        etag,
    }
}

fn required_kind(field: &str, raw: i32) -> Result<RecommendationKind> {
    recommendation_kind_in(field, raw)?.ok_or_else(|| Error::invalid(field, "is required"))
}

/// An optional initiative name: empty means none.
fn author_initiative_in(field: &str, name: &str) -> Result<Option<ItemRef<InitiativeId>>> {
    if name.is_empty() { Ok(None) } else { parse::initiative(field, name).map(Some) }
}

/// A new recommendation from a create request; output-only fields are ignored.
pub fn new_recommendation(r: Option<&pb::Recommendation>) -> Result<NewRecommendation> {
    let r = required("recommendation", r)?;
    let mut v = Violations::new();
    let t = v.check(parse::target("recommendation.target", &r.target));
    let kind = v.check(required_kind("recommendation.kind", r.kind));
    let body = v.check(Body::parse("recommendation.body", &r.body));
    let author_initiative = v.check(author_initiative_in("recommendation.author_initiative", &r.author_initiative));
    v.finish()?;
    match (t, kind, body, author_initiative) {
        (Some(target), Some(kind), Some(body), Some(author_initiative)) => {
            Ok(NewRecommendation { target, kind, body, author_initiative })
        }
        _ => Err(Error::Internal("validated recommendation lost a field".into())),
    }
}

/// The fields clients may change on a recommendation.
pub const RECOMMENDATION_UPDATABLE: &[&str] = &["kind", "body", "author_initiative"];

/// A patch from an update request and its mask; `author_initiative` in the
/// mask with an empty name removes it.
pub fn recommendation_patch(r: &pb::Recommendation, mask: Option<&FieldMask>) -> Result<RecommendationPatch> {
    let paths = update_paths(mask, RECOMMENDATION_UPDATABLE, |p| match p {
        "kind" => r.kind != 0,
        "body" => !r.body.is_empty(),
        "author_initiative" => !r.author_initiative.is_empty(),
        _ => false,
    })?;
    let mut v = Violations::new();
    let mut patch = RecommendationPatch::default();
    for p in &paths {
        match p.as_str() {
            "kind" => patch.kind = v.check(required_kind("recommendation.kind", r.kind)),
            "body" => patch.body = v.check(Body::parse("recommendation.body", &r.body)),
            "author_initiative" => {
                patch.author_initiative =
                    v.check(author_initiative_in("recommendation.author_initiative", &r.author_initiative))
            }
            _ => {}
        }
    }
    v.finish()?;
    Ok(patch)
}

/// The answer of an AnswerRecommendation request.
pub fn new_answer(req: &pb::AnswerRecommendationRequest) -> Result<NewAnswer> {
    let mut v = Violations::new();
    let state = match v.check(answer_state_in("state", req.state)) {
        Some(Some(s)) if s != AnswerState::Unanswered => Some(s),
        Some(_) => {
            v.push("state", "must be ACKNOWLEDGED, ADOPTED or DECLINED");
            None
        }
        None => None,
    };
    let note = v.check(Note::parse("note", &req.note));
    v.finish()?;
    match (state, note) {
        (Some(state), Some(note)) => Ok(NewAnswer { state, note }),
        _ => Err(Error::Internal("validated answer lost a field".into())),
    }
}
