//! Parsing resource names (`municipalities/7/challenges/12`) into typed ids.
//! Each parser names the request field in its error.

use peerlab_core::domain::*;
use peerlab_core::model::{ItemRef, Target};
use peerlab_core::{Error, Result};

fn segments<'a>(field: &str, name: &'a str, pattern: &[&str]) -> Result<Vec<&'a str>> {
    let parts: Vec<&str> = name.split('/').collect();
    let shape = pattern.iter().map(|p| if p.is_empty() { "{id}" } else { p }).collect::<Vec<_>>().join("/");
    if name.is_empty() {
        return Err(Error::invalid(field, format!("is required (a name like {shape})")));
    }
    if parts.len() != pattern.len() || parts.iter().zip(pattern).any(|(got, want)| !want.is_empty() && got != want) {
        return Err(Error::invalid(field, format!("must be a name like {shape}")));
    }
    Ok(parts.iter().zip(pattern).filter(|(_, want)| want.is_empty()).map(|(got, _)| *got).collect())
}

/// `municipalities/{m}`.
pub fn municipality(field: &str, name: &str) -> Result<MunicipalityId> {
    let ids = segments(field, name, &["municipalities", ""])?;
    MunicipalityId::parse_str(field, ids[0])
}

/// `municipalities/{m}` or `municipalities/-` (every municipality).
pub fn municipality_or_all(field: &str, name: &str) -> Result<Option<MunicipalityId>> {
    if name == "municipalities/-" { Ok(None) } else { municipality(field, name).map(Some) }
}

/// `workingGroups/{g}`.
pub fn working_group(field: &str, name: &str) -> Result<WorkingGroupId> {
    let ids = segments(field, name, &["workingGroups", ""])?;
    WorkingGroupId::parse_str(field, ids[0])
}

/// `workingGroups/{g}/workshops/{w}`.
pub fn workshop(field: &str, name: &str) -> Result<(WorkingGroupId, WorkshopId)> {
    let ids = segments(field, name, &["workingGroups", "", "workshops", ""])?;
    Ok((WorkingGroupId::parse_str(field, ids[0])?, WorkshopId::parse_str(field, ids[1])?))
}

/// `workingGroups/{g}/memberships/{m}`.
pub fn membership(field: &str, name: &str) -> Result<(WorkingGroupId, MunicipalityId)> {
    let ids = segments(field, name, &["workingGroups", "", "memberships", ""])?;
    Ok((WorkingGroupId::parse_str(field, ids[0])?, MunicipalityId::parse_str(field, ids[1])?))
}

fn owned<Id>(field: &str, name: &str, collection: &str, parse: fn(&str, &str) -> Result<Id>) -> Result<ItemRef<Id>> {
    let ids = segments(field, name, &["municipalities", "", collection, ""])?;
    Ok(ItemRef { municipality: MunicipalityId::parse_str(field, ids[0])?, id: parse(field, ids[1])? })
}

/// `municipalities/{m}/challenges/{c}`.
pub fn challenge(field: &str, name: &str) -> Result<ItemRef<ChallengeId>> {
    owned(field, name, "challenges", ChallengeId::parse_str)
}

/// `municipalities/{m}/initiatives/{i}`.
pub fn initiative(field: &str, name: &str) -> Result<ItemRef<InitiativeId>> {
    owned(field, name, "initiatives", InitiativeId::parse_str)
}

/// `municipalities/{m}/projectIdeas/{p}`.
pub fn project_idea(field: &str, name: &str) -> Result<ItemRef<ProjectIdeaId>> {
    owned(field, name, "projectIdeas", ProjectIdeaId::parse_str)
}

/// `municipalities/{m}/recommendations/{r}`.
pub fn recommendation(field: &str, name: &str) -> Result<ItemRef<RecommendationId>> {
    owned(field, name, "recommendations", RecommendationId::parse_str)
}

/// The target of a recommendation: a challenge, initiative or project idea.
pub fn target(field: &str, name: &str) -> Result<Target> {
    match name.split('/').nth(2) {
        Some("challenges") => challenge(field, name).map(Target::Challenge),
        Some("initiatives") => initiative(field, name).map(Target::Initiative),
        Some("projectIdeas") => project_idea(field, name).map(Target::ProjectIdea),
        _ => Err(Error::invalid(
            field,
            "must name a challenge, initiative or project idea (municipalities/{m}/challenges/{id}, …/initiatives/{id} or …/projectIdeas/{id})",
        )),
    }
}

/// Parse each name of a repeated field, naming `field[i]` in errors.
pub fn each<T>(field: &str, names: &[String], parse: fn(&str, &str) -> Result<T>) -> Result<Vec<T>> {
    names.iter().enumerate().map(|(i, n)| parse(&format!("{field}[{i}]"), n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_errors_name_the_field() {
        assert_eq!(municipality("parent", "municipalities/7").map(|m| m.get()).ok(), Some(7));
        assert!(municipality_or_all("parent", "municipalities/-").is_ok_and(|m| m.is_none()));
        let r = challenge("name", "municipalities/7/challenges/12").ok();
        assert_eq!(r.map(|r| (r.municipality.get(), r.id.get())), Some((7, 12)));
        for bad in [
            "",
            "municipalities",
            "municipalities/x",
            "municipalities/0",
            "municipalities/007",
            "municipalities/+7",
            "towns/7",
            "municipalities/7/challenges/12/x",
        ] {
            match municipality("parent", bad) {
                Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "parent"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(target("t", "municipalities/1/initiatives/2").is_ok_and(|t| matches!(t, Target::Initiative(_))));
        assert!(target("t", "municipalities/1/recommendations/2").is_err());
    }
}
