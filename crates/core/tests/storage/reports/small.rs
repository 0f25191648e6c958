//! A network small enough to work its report out by hand.

use chrono::NaiveDate;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::Store;
use peerlab_testkit::{cc, coordinator, staff};

/// Mostar (BA), Niš (RS) and Skopje (MK) in one group, with content whose
/// report can be worked out by hand.
pub async fn small_network(s: &Store) -> (WorkingGroupId, [ItemRef<ChallengeId>; 2], [Recommendation; 2]) {
    let co = coordinator();
    let mut m = Vec::new();
    for (name, c) in [("Mostar", "BA"), ("Niš", "RS"), ("Skopje", "MK")] {
        let input = NewMunicipality { display_name: Title::parse("n", name).expect("n"), country: cc(c) };
        m.push(s.create_municipality(&co, input, None).await.expect("municipality").id);
    }
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let title = |t: &str| Title::parse("t", t).expect("t");
    let empty = || Description::parse("d", "").expect("d");
    let group = NewWorkingGroup {
        display_name: title("Digitalisation"),
        description: empty(),
        themes: vec![],
        start_date: day("2021-09-21"),
        end_date: day("2021-11-30"),
    };
    let g = s.create_working_group(&co, group, None).await.expect("group").id;
    for id in &m {
        s.create_membership(&co, g, *id, None).await.expect("member");
    }
    let ws = NewWorkshop {
        display_name: title("Ideation"),
        phase: WorkshopPhase::Ideation,
        date: day("2021-10-05"),
        duration_minutes: 180,
        attendees: vec![m[0], m[2]],
    };
    s.create_workshop(&co, g, ws, None).await.expect("workshop");
    let who = [staff("BA", m[0]), staff("RS", m[1]), staff("MK", m[2])];
    let mut challenges = Vec::new();
    for (i, themes, vis) in [
        (0, &["digitalisation", "archives"][..], Visibility::Shared),
        (1, &["digitalisation"], Visibility::Shared),
        (2, &["energy"], Visibility::Draft),
    ] {
        let themes =
            Theme::parse_list("themes", &themes.iter().map(|t| t.to_string()).collect::<Vec<_>>()).expect("themes");
        let input =
            NewChallenge { working_group: g, title: title("Archives"), description: empty(), themes, visibility: vis };
        let c = s.create_challenge(&who[i], m[i], input, None).await.expect("challenge");
        challenges.push(ItemRef { municipality: m[i], id: c.id });
    }
    s.archive_challenge(&co, challenges[2], None).await.expect("archive");
    let advise = |target| NewRecommendation {
        target,
        kind: RecommendationKind::Suggestion,
        body: Body::parse("b", "Try this").expect("b"),
        author_initiative: None,
    };
    let r1 = s.create_recommendation(&who[1], m[1], advise(Target::Challenge(challenges[0])), None).await.expect("r1");
    let r2 = s.create_recommendation(&who[2], m[2], advise(Target::Challenge(challenges[0])), None).await.expect("r2");
    let r3 = s.create_recommendation(&who[0], m[0], advise(Target::Challenge(challenges[1])), None).await.expect("r3");
    s.archive_recommendation(&co, ItemRef { municipality: m[0], id: r3.id }, None).await.expect("archive r3");
    for (r, state) in [(&r1, AnswerState::Adopted), (&r2, AnswerState::Acknowledged)] {
        let answer = NewAnswer { state, note: Note::parse("n", "").expect("n") };
        s.answer_recommendation(&who[0], ItemRef { municipality: r.municipality, id: r.id }, answer, None)
            .await
            .expect("answer");
    }
    (g, [challenges[0], challenges[1]], [r1, r2])
}
