//! The JSON and columns of each resource. Keys are the proto field names;
//! enum values are their proto names without the type prefix, in lower case
//! (`in_progress`, as the reports' keys); times are RFC 3339; unset is null.

use peerlab_client::{Date, pb};
use serde_json::{Value, json};

use crate::output::Record;

/// An enum value by name, e.g. `short("INITIATIVE_STATUS_IN_PROGRESS", "INITIATIVE_STATUS_")`.
fn short(name: Option<&str>, prefix: &str, raw: i32) -> Value {
    match name {
        Some(name) if name.ends_with("_UNSPECIFIED") => Value::Null,
        Some(name) => Value::String(name.strip_prefix(prefix).unwrap_or(name).to_ascii_lowercase()),
        None => Value::from(raw),
    }
}

macro_rules! enum_json {
    ($($fn_name:ident: $pb:ident, $prefix:literal;)*) => {$(
        pub fn $fn_name(raw: i32) -> Value {
            short(pb::$pb::try_from(raw).ok().map(|e| e.as_str_name()), $prefix, raw)
        }
    )*};
}

enum_json! {
    visibility: Visibility, "VISIBILITY_";
    challenge_status: ChallengeStatus, "CHALLENGE_STATUS_";
    initiative_status: InitiativeStatus, "INITIATIVE_STATUS_";
    project_stage: ProjectStage, "PROJECT_STAGE_";
    recommendation_kind: RecommendationKind, "RECOMMENDATION_KIND_";
    answer_state: AnswerState, "ANSWER_STATE_";
    workshop_phase: WorkshopPhase, "WORKSHOP_PHASE_";
}

/// RFC 3339, or null.
pub fn time(timestamp: Option<&prost_types::Timestamp>) -> Value {
    timestamp.map_or(Value::Null, |t| Value::String(t.to_string()))
}

fn date(date: Option<&Date>) -> Value {
    date.map_or(Value::Null, |d| Value::String(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)))
}

impl Record for pb::Municipality {
    const COLUMNS: &'static [&'static str] =
        &["name", "display_name", "country", "create_time", "update_time", "archive_time", "etag"];
    const TABLE: &'static [&'static str] = &["name", "display_name", "country", "archive_time"];
    fn to_json(&self) -> Value {
        json!({
            "name": self.name, "display_name": self.display_name, "country": self.country,
            "create_time": time(self.create_time.as_ref()), "update_time": time(self.update_time.as_ref()),
            "archive_time": time(self.archive_time.as_ref()), "etag": self.etag,
        })
    }
}

impl Record for pb::WorkingGroup {
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "display_name",
        "description",
        "themes",
        "start_date",
        "end_date",
        "member_count",
        "create_time",
        "update_time",
        "archive_time",
        "etag",
    ];
    const TABLE: &'static [&'static str] =
        &["name", "display_name", "start_date", "end_date", "member_count", "themes"];
    fn to_json(&self) -> Value {
        json!({
            "name": self.name, "display_name": self.display_name, "description": self.description,
            "themes": self.themes, "start_date": date(self.start_date.as_ref()), "end_date": date(self.end_date.as_ref()),
            "member_count": self.member_count,
            "create_time": time(self.create_time.as_ref()), "update_time": time(self.update_time.as_ref()),
            "archive_time": time(self.archive_time.as_ref()), "etag": self.etag,
        })
    }
}

impl Record for pb::Membership {
    const COLUMNS: &'static [&'static str] = &["name", "municipality", "country", "create_time"];
    const TABLE: &'static [&'static str] = Self::COLUMNS;
    fn to_json(&self) -> Value {
        json!({
            "name": self.name, "municipality": self.municipality, "country": self.country,
            "create_time": time(self.create_time.as_ref()),
        })
    }
}

impl Record for pb::Workshop {
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "display_name",
        "phase",
        "date",
        "duration_minutes",
        "attendees",
        "create_time",
        "update_time",
        "archive_time",
        "etag",
    ];
    const TABLE: &'static [&'static str] = &["name", "display_name", "phase", "date", "duration_minutes"];
    fn to_json(&self) -> Value {
        json!({
            "name": self.name, "display_name": self.display_name, "phase": workshop_phase(self.phase),
            "date": date(self.date.as_ref()), "duration_minutes": self.duration_minutes, "attendees": self.attendees,
            "create_time": time(self.create_time.as_ref()), "update_time": time(self.update_time.as_ref()),
            "archive_time": time(self.archive_time.as_ref()), "etag": self.etag,
        })
    }
}

/// The fields every piece of municipal content shares, by name.
macro_rules! content_json {
    ($item:expr, { $($extra:tt)* }) => {
        json!({
            "name": $item.name, "working_group": $item.working_group, "title": $item.title,
            "description": $item.description, "visibility": visibility($item.visibility),
            "municipality": $item.municipality, "country": $item.country,
            $($extra)*
            "create_time": time($item.create_time.as_ref()), "update_time": time($item.update_time.as_ref()),
            "archive_time": time($item.archive_time.as_ref()), "etag": $item.etag,
        })
    };
}

impl Record for pb::Challenge {
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "working_group",
        "title",
        "description",
        "themes",
        "status",
        "visibility",
        "municipality",
        "country",
        "create_time",
        "update_time",
        "archive_time",
        "etag",
    ];
    const TABLE: &'static [&'static str] = &["name", "country", "status", "title", "themes"];
    fn to_json(&self) -> Value {
        content_json!(self, { "themes": self.themes, "status": challenge_status(self.status), })
    }
}

impl Record for pb::Initiative {
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "working_group",
        "title",
        "description",
        "status",
        "challenges",
        "visibility",
        "municipality",
        "country",
        "create_time",
        "update_time",
        "archive_time",
        "etag",
    ];
    const TABLE: &'static [&'static str] = &["name", "country", "status", "title"];
    fn to_json(&self) -> Value {
        content_json!(self, { "status": initiative_status(self.status), "challenges": self.challenges, })
    }
}

impl Record for pb::ProjectIdea {
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "working_group",
        "title",
        "description",
        "stage",
        "challenges",
        "initiatives",
        "partners",
        "visibility",
        "municipality",
        "country",
        "create_time",
        "update_time",
        "archive_time",
        "etag",
    ];
    const TABLE: &'static [&'static str] = &["name", "country", "stage", "title", "partners"];
    fn to_json(&self) -> Value {
        content_json!(self, {
            "stage": project_stage(self.stage), "challenges": self.challenges,
            "initiatives": self.initiatives, "partners": self.partners,
        })
    }
}

impl Record for pb::Recommendation {
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "target",
        "kind",
        "body",
        "author_initiative",
        "working_group",
        "municipality",
        "country",
        "target_municipality",
        "target_country",
        "answer.state",
        "answer.note",
        "answer.answer_time",
        "create_time",
        "update_time",
        "archive_time",
        "etag",
    ];
    const TABLE: &'static [&'static str] = &["name", "kind", "country", "target_country", "target", "answer.state"];
    fn to_json(&self) -> Value {
        let answer = self.answer.as_ref().map_or(
            Value::Null,
            |a| json!({ "state": answer_state(a.state), "note": a.note, "answer_time": time(a.answer_time.as_ref()) }),
        );
        json!({
            "name": self.name, "target": self.target, "kind": recommendation_kind(self.kind), "body": self.body,
            "author_initiative": self.author_initiative, "working_group": self.working_group,
            "municipality": self.municipality, "country": self.country,
            "target_municipality": self.target_municipality, "target_country": self.target_country,
            "answer": answer,
            "create_time": time(self.create_time.as_ref()), "update_time": time(self.update_time.as_ref()),
            "archive_time": time(self.archive_time.as_ref()), "etag": self.etag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::cell;

    #[test]
    fn enums_print_short_and_unset_is_null() {
        assert_eq!(initiative_status(pb::InitiativeStatus::InProgress as i32), json!("in_progress"));
        assert_eq!(challenge_status(0), Value::Null);
        assert_eq!(answer_state(99), json!(99), "unknown values stay visible");
    }

    /// Every column of `R` names a key of its JSON.
    pub fn check_columns<R: Record + Default>() {
        let json = R::default().to_json();
        for column in R::COLUMNS.iter().chain(R::TABLE) {
            let root = column.split('.').next().unwrap_or_default();
            assert!(json.get(root).is_some(), "{column} missing in {json}");
        }
    }

    #[test]
    fn every_column_is_a_key_of_the_json() {
        check_columns::<pb::Municipality>();
        check_columns::<pb::WorkingGroup>();
        check_columns::<pb::Membership>();
        check_columns::<pb::Workshop>();
        check_columns::<pb::Challenge>();
        check_columns::<pb::Initiative>();
        check_columns::<pb::ProjectIdea>();
        check_columns::<pb::Recommendation>();
        check_columns::<pb::Event>();
        check_columns::<pb::CountryMetrics>();
    }

    #[test]
    fn nested_answers_and_dates_flatten_into_cells() {
        let recommendation = pb::Recommendation {
            answer: Some(pb::Answer { state: pb::AnswerState::Adopted as i32, note: "yes".into(), answer_time: None }),
            ..Default::default()
        };
        assert_eq!(cell(&recommendation.to_json(), "answer.state"), "adopted");
        let group = pb::WorkingGroup { start_date: Some(Date { year: 2021, month: 9, day: 1 }), ..Default::default() };
        assert_eq!(cell(&group.to_json(), "start_date"), "2021-09-01");
    }
}
