//! Random content writes: creates (some backdated, as if written earlier),
//! moves along the lifecycles, answers, archives.

use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::Store;
use peerlab_testkit::coordinator;
use sea_orm::{ConnectionTrait, Statement};

use super::random::{DAY, Net, Rng, THEMES, as_staff, d, t};

/// Move an item's create time back (as if written earlier); the caller then
/// touches the item so its next event carries the new time.
pub async fn backdate(s: &Store, table: &str, id: i64, micros: i64) {
    let db = s.connection();
    let sql = format!("UPDATE {table} SET create_time = {micros} WHERE id = {id}");
    db.execute(Statement::from_string(db.get_database_backend(), sql)).await.expect("backdate");
}

fn themes(rng: &mut Rng) -> Vec<Theme> {
    let picked: Vec<String> = THEMES.iter().filter(|_| rng.chance(30)).map(|t| t.to_string()).collect();
    Theme::parse_list("themes", &picked).expect("themes")
}

/// A random time in the last `days` days.
fn earlier(rng: &mut Rng, days: i64) -> i64 {
    chrono::Utc::now().timestamp_micros() - (rng.next() % (days * DAY) as u64) as i64
}

fn shared_live<T>(items: &[T], owner: impl Fn(&T) -> (&Ownership, &Meta)) -> Vec<usize> {
    (0..items.len())
        .filter(|i| {
            let (o, m) = owner(&items[*i]);
            o.visibility == Visibility::Shared && m.archive_time.is_none()
        })
        .collect()
}

fn live<T>(items: &[T], meta: impl Fn(&T) -> &Meta) -> Vec<usize> {
    (0..items.len()).filter(|i| meta(&items[*i]).archive_time.is_none()).collect()
}

/// One random content write.
pub async fn step(s: &Store, rng: &mut Rng, net: &mut Net) {
    let co = coordinator();
    let (g, members) = net.groups[rng.below(net.groups.len())].clone();
    let (m, c) = members[rng.below(members.len())];
    let who = as_staff(m, c);
    let vis = if rng.chance(85) { Visibility::Shared } else { Visibility::Draft };
    match rng.below(18) {
        0..=2 => {
            let input = NewChallenge {
                working_group: g,
                title: t("Challenge"),
                description: d(),
                themes: themes(rng),
                visibility: vis,
            };
            let mut ch = s.create_challenge(&who, m, input, None).await.expect("challenge");
            if rng.chance(70) {
                backdate(s, "challenges", ch.id.get(), earlier(rng, 400)).await;
                let patch = ChallengePatch { title: Some(t("Backdated challenge")), ..Default::default() };
                ch =
                    s.update_challenge(&who, ItemRef { municipality: m, id: ch.id }, patch, None).await.expect("touch");
            }
            net.challenges.push(ch);
        }
        3 | 4 => {
            let status =
                [InitiativeStatus::Planned, InitiativeStatus::InProgress, InitiativeStatus::Implemented][rng.below(3)];
            let input = NewInitiative {
                working_group: g,
                title: t("Initiative"),
                description: d(),
                status,
                challenges: vec![],
                visibility: vis,
            };
            let mut i = s.create_initiative(&who, m, input, None).await.expect("initiative");
            if rng.chance(50) {
                backdate(s, "initiatives", i.id.get(), earlier(rng, 400)).await;
                let patch = InitiativePatch { title: Some(t("Backdated initiative")), ..Default::default() };
                i = s.update_initiative(&who, ItemRef { municipality: m, id: i.id }, patch, None).await.expect("touch");
            }
            net.initiatives.push(i);
        }
        5 | 6 => {
            let input = NewProjectIdea {
                working_group: g,
                title: t("Idea"),
                description: d(),
                challenges: vec![],
                initiatives: vec![],
                partners: vec![],
                visibility: vis,
            };
            let mut p = s.create_project_idea(&who, m, input, None).await.expect("idea");
            if rng.chance(50) {
                backdate(s, "project_ideas", p.id.get(), earlier(rng, 400)).await;
                let patch = ProjectIdeaPatch { title: Some(t("Backdated idea")), ..Default::default() };
                p = s
                    .update_project_idea(&who, ItemRef { municipality: m, id: p.id }, patch, None)
                    .await
                    .expect("touch");
            }
            net.ideas.push(p);
        }
        7..=9 => recommend(s, rng, net).await,
        10 | 11 => {
            let open: Vec<usize> = (0..net.recs.len())
                .filter(|i| {
                    let r = &net.recs[*i];
                    r.meta.archive_time.is_none()
                        && matches!(r.answer.state, AnswerState::Unanswered | AnswerState::Acknowledged)
                })
                .collect();
            let Some(&i) = open.get(rng.below(open.len())) else { return };
            let r = &net.recs[i];
            let receiver = r.target.municipality();
            let choices: &[AnswerState] = match r.answer.state {
                AnswerState::Acknowledged => &[AnswerState::Adopted, AnswerState::Declined],
                _ => &[AnswerState::Acknowledged, AnswerState::Adopted, AnswerState::Declined],
            };
            let state = choices[rng.below(choices.len())];
            let answer = NewAnswer { state, note: Note::parse("note", "thanks").expect("note") };
            let p = as_staff(receiver, r.target_country);
            net.recs[i] = s
                .answer_recommendation(&p, ItemRef { municipality: r.municipality, id: r.id }, answer, None)
                .await
                .expect("answer");
        }
        12 => {
            let idx = live(&net.recs, |r| &r.meta);
            let Some(&i) = idx.get(rng.below(idx.len())) else { return };
            let r = &net.recs[i];
            net.recs[i] = s
                .archive_recommendation(&co, ItemRef { municipality: r.municipality, id: r.id }, None)
                .await
                .expect("archive rec");
        }
        13 => {
            let idx = live(&net.challenges, |c| &c.meta);
            let Some(&i) = idx.get(rng.below(idx.len())) else { return };
            let ch = &net.challenges[i];
            let r = ItemRef { municipality: ch.owner.municipality, id: ch.id };
            let owner = as_staff(ch.owner.municipality, ch.owner.country);
            let roll = rng.below(10);
            net.challenges[i] = if roll < 2 {
                s.archive_challenge(&co, r, None).await.expect("archive challenge")
            } else if roll < 6 && ch.status == ChallengeStatus::Open {
                let patch = ChallengePatch { status: Some(ChallengeStatus::Addressed), ..Default::default() };
                s.update_challenge(&owner, r, patch, None).await.expect("address")
            } else {
                let vis = Some(Visibility::Shared);
                let patch = ChallengePatch { themes: Some(themes(rng)), visibility: vis, ..Default::default() };
                s.update_challenge(&owner, r, patch, None).await.expect("retheme")
            };
        }
        14 | 15 => {
            let idx = live(&net.initiatives, |i| &i.meta);
            let Some(&i) = idx.get(rng.below(idx.len())) else { return };
            let it = &net.initiatives[i];
            let r = ItemRef { municipality: it.owner.municipality, id: it.id };
            let next = match it.status {
                InitiativeStatus::Planned => Some(InitiativeStatus::InProgress),
                InitiativeStatus::InProgress => {
                    Some(if rng.chance(70) { InitiativeStatus::Implemented } else { InitiativeStatus::Discontinued })
                }
                _ => None,
            };
            net.initiatives[i] = match next {
                _ if rng.chance(15) => s.archive_initiative(&co, r, None).await.expect("archive initiative"),
                Some(st) => {
                    let patch = InitiativePatch { status: Some(st), ..Default::default() };
                    s.update_initiative(&as_staff(r.municipality, it.owner.country), r, patch, None)
                        .await
                        .expect("move")
                }
                None => return,
            };
        }
        _ => {
            let idx = live(&net.ideas, |p| &p.meta);
            let Some(&i) = idx.get(rng.below(idx.len())) else { return };
            let p = &net.ideas[i];
            let r = ItemRef { municipality: p.owner.municipality, id: p.id };
            let next = match p.stage {
                ProjectStage::Idea => Some(ProjectStage::Consolidated),
                ProjectStage::Consolidated => Some(ProjectStage::SolutionDefined),
                ProjectStage::SolutionDefined => Some(ProjectStage::ProjectDefined),
                ProjectStage::ProjectDefined => None,
            };
            net.ideas[i] = match next {
                _ if rng.chance(15) => s.archive_project_idea(&co, r, None).await.expect("archive idea"),
                Some(st) => {
                    let patch = ProjectIdeaPatch { stage: Some(st), ..Default::default() };
                    s.update_project_idea(&as_staff(r.municipality, p.owner.country), r, patch, None)
                        .await
                        .expect("advance")
                }
                None => return,
            };
        }
    }
}

/// A member of the target's group recommends on a live shared item of a peer.
async fn recommend(s: &Store, rng: &mut Rng, net: &mut Net) {
    let mut targets: Vec<(Target, Ownership, i64)> = Vec::new();
    for i in shared_live(&net.challenges, |c| (&c.owner, &c.meta)) {
        let c = &net.challenges[i];
        targets.push((
            Target::Challenge(ItemRef { municipality: c.owner.municipality, id: c.id }),
            c.owner.clone(),
            c.meta.create_time.timestamp_micros(),
        ));
    }
    for i in shared_live(&net.initiatives, |c| (&c.owner, &c.meta)) {
        let c = &net.initiatives[i];
        targets.push((
            Target::Initiative(ItemRef { municipality: c.owner.municipality, id: c.id }),
            c.owner.clone(),
            c.meta.create_time.timestamp_micros(),
        ));
    }
    for i in shared_live(&net.ideas, |c| (&c.owner, &c.meta)) {
        let c = &net.ideas[i];
        targets.push((
            Target::ProjectIdea(ItemRef { municipality: c.owner.municipality, id: c.id }),
            c.owner.clone(),
            c.meta.create_time.timestamp_micros(),
        ));
    }
    let Some((target, owner, created)) = targets.get(rng.below(targets.len())).cloned() else { return };
    let members = &net.groups.iter().find(|(g, _)| *g == owner.working_group).expect("group").1;
    let authors: Vec<_> = members.iter().filter(|(m, _)| *m != owner.municipality).collect();
    let Some(&&(author, country)) = authors.get(rng.below(authors.len())) else { return };
    let input = NewRecommendation {
        target,
        kind: RecommendationKind::GoodPractice,
        body: Body::parse("body", "We did this; see our initiative.").expect("body"),
        author_initiative: None,
    };
    let who = as_staff(author, country);
    let mut r = s.create_recommendation(&who, author, input, None).await.expect("recommendation");
    if rng.chance(60) {
        let now = chrono::Utc::now().timestamp_micros();
        let at = created + (rng.next() % (now - created).max(1) as u64) as i64;
        backdate(s, "recommendations", r.id.get(), at).await;
        let patch = RecommendationPatch {
            body: Some(Body::parse("body", "Backdated advice.").expect("body")),
            ..Default::default()
        };
        r = s
            .update_recommendation(&who, ItemRef { municipality: author, id: r.id }, patch, None)
            .await
            .expect("touch");
    }
    net.recs.push(r);
}
