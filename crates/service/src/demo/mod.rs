//! The demo network loaded by `peerlab serve --demo`, and the quick-start
//! commands it prints.
//!
//! Loading goes through the store's own idempotent creates: every create
//! carries a fixed `request_id`, so loading again (or after an interrupted
//! load) replays what exists and adds only what is missing.

mod data;
mod quick_start;

use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDate;
use peerlab_core::auth::{Principal, Role};
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{RequestId, Store};

pub use quick_start::print_quick_start;

const ISSUER: &str = "peerlab-demo";
const LOADER: &str = "loader";

fn rid(kind: &str, key: &str) -> anyhow::Result<Option<RequestId>> {
    Ok(RequestId::parse(&format!("demo:{kind}:{key}"))?)
}

fn date(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("demo date {s}"))
}

struct Loader<'a> {
    store: &'a Store,
    coordinator: Principal,
    municipalities: HashMap<&'static str, (MunicipalityId, CountryCode)>,
    groups: HashMap<&'static str, WorkingGroupId>,
    challenges: HashMap<&'static str, ItemRef<ChallengeId>>,
    initiatives: HashMap<&'static str, ItemRef<InitiativeId>>,
    ideas: HashMap<&'static str, ItemRef<ProjectIdeaId>>,
}

impl Loader<'_> {
    fn muni(&self, key: &str) -> anyhow::Result<(MunicipalityId, CountryCode)> {
        self.municipalities.get(key).copied().with_context(|| format!("demo municipality {key}"))
    }

    fn staff(&self, key: &str) -> anyhow::Result<Principal> {
        let (m, c) = self.muni(key)?;
        Ok(Principal::new(ISSUER, LOADER, Role::Staff, Some(c), Some(m))?)
    }

    fn group(&self, key: &str) -> anyhow::Result<WorkingGroupId> {
        self.groups.get(key).copied().with_context(|| format!("demo group {key}"))
    }

    async fn network(&mut self) -> anyhow::Result<()> {
        for (key, name, country) in data::MUNICIPALITIES {
            let input =
                NewMunicipality { display_name: Title::parse("name", name)?, country: CountryCode::parse(country)? };
            let m =
                self.store.create_municipality(&self.coordinator, input, rid("municipality", key)?.as_ref()).await?;
            self.municipalities.insert(key, (m.id, m.country));
        }
        let digitalisation_members: Vec<&str> = data::MUNICIPALITIES[..19].iter().map(|m| m.0).collect();
        let groups: [data::GroupRow; 2] = [
            (
                "dig",
                "Digitalisation Working Group",
                "Nineteen municipalities from Albania, Bosnia and Herzegovina, Georgia, Moldova, North Macedonia, Serbia and Ukraine learn from each other's digitalisation initiatives and develop their own project ideas.",
                &["digitalisation", "e-services"],
                "2021-09-21",
                "2021-11-30",
                &digitalisation_members,
                data::DIGITALISATION_WORKSHOPS,
            ),
            (
                "lab",
                "Public Sector Innovation Policy Lab",
                "Local governments of Bosnia and Herzegovina co-design solutions to improve policies and public services.",
                &["innovation", "public-administration"],
                "2022-03-21",
                "2022-03-25",
                data::LAB_MEMBERS,
                data::LAB_WORKSHOPS,
            ),
        ];
        for (key, name, description, themes, start, end, members, workshops) in groups {
            let themes: Vec<String> = themes.iter().map(|t| t.to_string()).collect();
            let input = NewWorkingGroup {
                display_name: Title::parse("name", name)?,
                description: Description::parse("description", description)?,
                themes: Theme::parse_list("themes", &themes)?,
                start_date: date(start)?,
                end_date: date(end)?,
            };
            let g = self.store.create_working_group(&self.coordinator, input, rid("group", key)?.as_ref()).await?;
            self.groups.insert(key, g.id);
            for m in members {
                let (id, _) = self.muni(m)?;
                self.store
                    .create_membership(&self.coordinator, g.id, id, rid("membership", &format!("{key}:{m}"))?.as_ref())
                    .await?;
            }
            for (n, (phase, title, day, minutes, attending)) in workshops.iter().enumerate() {
                let attendees = if attending.is_empty() { members } else { attending };
                let input = NewWorkshop {
                    display_name: Title::parse("title", title)?,
                    phase: WorkshopPhase::parse("phase", phase)?,
                    date: date(day)?,
                    duration_minutes: *minutes,
                    attendees: attendees.iter().map(|a| self.muni(a).map(|m| m.0)).collect::<anyhow::Result<_>>()?,
                };
                self.store
                    .create_workshop(&self.coordinator, g.id, input, rid("workshop", &format!("{key}:{n}"))?.as_ref())
                    .await?;
            }
        }
        Ok(())
    }

    async fn content(&mut self) -> anyhow::Result<()> {
        for (key, group, owner, title, themes, draft, status) in data::CHALLENGES {
            let themes: Vec<String> = themes.iter().map(|t| t.to_string()).collect();
            let input = NewChallenge {
                working_group: self.group(group)?,
                title: Title::parse("title", title)?,
                description: Description::parse("description", "")?,
                themes: Theme::parse_list("themes", &themes)?,
                visibility: if *draft { Visibility::Draft } else { Visibility::Shared },
            };
            let p = self.staff(owner)?;
            let mut c =
                self.store.create_challenge(&p, self.muni(owner)?.0, input, rid("challenge", key)?.as_ref()).await?;
            let target = ChallengeStatus::parse("status", status)?;
            let r = ItemRef { municipality: c.owner.municipality, id: c.id };
            if c.status != target {
                let patch = ChallengePatch { status: Some(target), ..Default::default() };
                c = self.store.update_challenge(&p, r, patch, None).await?;
            }
            self.challenges.insert(key, ItemRef { municipality: c.owner.municipality, id: c.id });
        }
        for (key, group, owner, title, status, addresses) in data::INITIATIVES {
            let input = NewInitiative {
                working_group: self.group(group)?,
                title: Title::parse("title", title)?,
                description: Description::parse("description", "")?,
                status: InitiativeStatus::parse("status", status)?,
                challenges: addresses
                    .iter()
                    .map(|c| self.challenges.get(c).copied().context("demo challenge"))
                    .collect::<anyhow::Result<_>>()?,
                visibility: Visibility::Shared,
            };
            let i = self
                .store
                .create_initiative(&self.staff(owner)?, self.muni(owner)?.0, input, rid("initiative", key)?.as_ref())
                .await?;
            self.initiatives.insert(key, ItemRef { municipality: i.owner.municipality, id: i.id });
        }
        for (key, group, owner, title, stage, challenges, initiatives, partners) in data::PROJECT_IDEAS {
            let input = NewProjectIdea {
                working_group: self.group(group)?,
                title: Title::parse("title", title)?,
                description: Description::parse("description", "")?,
                challenges: challenges
                    .iter()
                    .map(|c| self.challenges.get(c).copied().context("demo challenge"))
                    .collect::<anyhow::Result<_>>()?,
                initiatives: initiatives
                    .iter()
                    .map(|i| self.initiatives.get(i).copied().context("demo initiative"))
                    .collect::<anyhow::Result<_>>()?,
                partners: partners.iter().map(|m| self.muni(m).map(|m| m.0)).collect::<anyhow::Result<_>>()?,
                visibility: Visibility::Shared,
            };
            let p = self.staff(owner)?;
            let mut idea =
                self.store.create_project_idea(&p, self.muni(owner)?.0, input, rid("idea", key)?.as_ref()).await?;
            let target = ProjectStage::parse("stage", stage)?;
            // Walk the idea through the workshops, one stage at a time.
            while idea.stage != target {
                let next = match idea.stage {
                    ProjectStage::Idea => ProjectStage::Consolidated,
                    ProjectStage::Consolidated => ProjectStage::SolutionDefined,
                    ProjectStage::SolutionDefined | ProjectStage::ProjectDefined => ProjectStage::ProjectDefined,
                };
                let r = ItemRef { municipality: idea.owner.municipality, id: idea.id };
                idea = self
                    .store
                    .update_project_idea(&p, r, ProjectIdeaPatch { stage: Some(next), ..Default::default() }, None)
                    .await?;
            }
            self.ideas.insert(key, ItemRef { municipality: idea.owner.municipality, id: idea.id });
        }
        Ok(())
    }

    async fn recommendations(&mut self) -> anyhow::Result<()> {
        for (key, author, kind, target, rkind, body, own, answer) in data::RECOMMENDATIONS {
            let target = match *kind {
                "challenge" => Target::Challenge(*self.challenges.get(target).context("demo target")?),
                "initiative" => Target::Initiative(*self.initiatives.get(target).context("demo target")?),
                _ => Target::ProjectIdea(*self.ideas.get(target).context("demo target")?),
            };
            let input = NewRecommendation {
                target,
                kind: RecommendationKind::parse("kind", rkind)?,
                body: Body::parse("body", body)?,
                author_initiative: own
                    .map(|i| self.initiatives.get(i).copied().context("demo initiative"))
                    .transpose()?,
            };
            let p = self.staff(author)?;
            let rec = self
                .store
                .create_recommendation(&p, self.muni(author)?.0, input, rid("recommendation", key)?.as_ref())
                .await?;
            if let Some((state, note)) = answer.filter(|_| rec.answer.state == AnswerState::Unanswered) {
                let receiver =
                    Principal::new(ISSUER, LOADER, Role::Staff, Some(rec.target_country), Some(target.municipality()))?;
                let r = ItemRef { municipality: rec.municipality, id: rec.id };
                let answer = NewAnswer { state: AnswerState::parse("state", state)?, note: Note::parse("note", note)? };
                self.store.answer_recommendation(&receiver, r, answer, None).await?;
            }
        }
        Ok(())
    }
}

/// Load the demo network (idempotent: a second load changes nothing).
pub async fn load(store: &Store) -> anyhow::Result<()> {
    let mut loader = Loader {
        store,
        coordinator: Principal::new(ISSUER, LOADER, Role::Coordinator, None, None)?,
        municipalities: HashMap::new(),
        groups: HashMap::new(),
        challenges: HashMap::new(),
        initiatives: HashMap::new(),
        ideas: HashMap::new(),
    };
    loader.network().await.context("loading the demo network")?;
    loader.content().await.context("loading demo content")?;
    loader.recommendations().await.context("loading demo recommendations")?;
    tracing::info!(municipalities = loader.municipalities.len(), "demo network ready");
    Ok(())
}
