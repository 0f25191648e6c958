//! The network: municipalities, working groups and their memberships and
//! workshops, content (challenges, initiatives, project ideas,
//! recommendations), the event log and idempotency keys.
//!
//! Times are microseconds since the Unix epoch (BIGINT): exact, portable
//! between SQLite and PostgreSQL, and cheap to compare in keyset filters.
//! Dates are `YYYY-MM-DD` text. Enumerations are lower-case text.

use sea_orm_migration::prelude::*;

/// Creates every table of the first schema.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_network"
    }
}

fn id(t: &mut TableCreateStatement, col: impl IntoIden) -> &mut TableCreateStatement {
    t.col(ColumnDef::new(col).big_integer().not_null().auto_increment().primary_key())
}

fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

/// version, create_time, update_time, archive_time: on every mutable resource.
fn lifecycle(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(big(Common::Version))
        .col(big(Common::CreateTime))
        .col(big(Common::UpdateTime))
        .col(ColumnDef::new(Common::ArchiveTime).big_integer().null())
}

fn fk(
    from_table: impl IntoIden + 'static,
    from: impl IntoIden + 'static,
    to_table: impl IntoIden + 'static,
    to: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from_table, from).to(to_table, to).on_delete(ForeignKeyAction::Restrict).to_owned()
}

fn index(name: &str, table: impl IntoIden + 'static, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

/// Content owned by a municipality in a working group.
fn owned_content(t: &mut TableCreateStatement, table: impl IntoIden + Copy + 'static) -> &mut TableCreateStatement {
    id(t, Common::Id)
        .col(big(Common::WorkingGroupId))
        .col(big(Common::MunicipalityId))
        .col(text(Common::Country))
        .col(text(Common::Title))
        .col(text(Common::Description))
        .col(text(Common::Visibility))
        .foreign_key(&mut fk(table, Common::WorkingGroupId, WorkingGroups::Table, Common::Id))
        .foreign_key(&mut fk(table, Common::MunicipalityId, Municipalities::Table, Common::Id))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(Municipalities::Table);
        id(&mut t, Common::Id).col(text(Municipalities::DisplayName)).col(text(Common::Country));
        m.create_table(lifecycle(&mut t).to_owned()).await?;
        m.create_index(index("municipalities_country", Municipalities::Table, &["country", "id"])).await?;

        let mut t = Table::create();
        t.table(WorkingGroups::Table);
        id(&mut t, Common::Id)
            .col(text(WorkingGroups::DisplayName))
            .col(text(Common::Description))
            .col(text(WorkingGroups::Themes))
            .col(text(WorkingGroups::StartDate))
            .col(text(WorkingGroups::EndDate))
            .col(big(WorkingGroups::MemberCount));
        m.create_table(lifecycle(&mut t).to_owned()).await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(big(Common::WorkingGroupId))
                .col(big(Common::MunicipalityId))
                .col(text(Common::Country))
                .col(big(Common::CreateTime))
                .primary_key(Index::create().col(Common::WorkingGroupId).col(Common::MunicipalityId))
                .foreign_key(&mut fk(Memberships::Table, Common::WorkingGroupId, WorkingGroups::Table, Common::Id))
                .foreign_key(&mut fk(Memberships::Table, Common::MunicipalityId, Municipalities::Table, Common::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("memberships_municipality", Memberships::Table, &["municipality_id", "working_group_id"]))
            .await?;
        m.create_index(index("memberships_country", Memberships::Table, &["country", "working_group_id"])).await?;

        let mut t = Table::create();
        t.table(Workshops::Table);
        id(&mut t, Common::Id)
            .col(big(Common::WorkingGroupId))
            .col(text(Workshops::DisplayName))
            .col(text(Workshops::Phase))
            .col(text(Workshops::Date))
            .col(big(Workshops::DurationMinutes))
            .foreign_key(&mut fk(Workshops::Table, Common::WorkingGroupId, WorkingGroups::Table, Common::Id));
        m.create_table(lifecycle(&mut t).to_owned()).await?;
        m.create_index(index("workshops_group", Workshops::Table, &["working_group_id", "date", "id"])).await?;

        m.create_table(
            Table::create()
                .table(WorkshopAttendees::Table)
                .col(big(WorkshopAttendees::WorkshopId))
                .col(big(Common::MunicipalityId))
                .col(text(Common::Country))
                .primary_key(Index::create().col(WorkshopAttendees::WorkshopId).col(Common::MunicipalityId))
                .foreign_key(&mut fk(
                    WorkshopAttendees::Table,
                    WorkshopAttendees::WorkshopId,
                    Workshops::Table,
                    Common::Id,
                ))
                .foreign_key(&mut fk(
                    WorkshopAttendees::Table,
                    Common::MunicipalityId,
                    Municipalities::Table,
                    Common::Id,
                ))
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(Challenges::Table);
        owned_content(&mut t, Challenges::Table).col(text(Common::Status));
        m.create_table(lifecycle(&mut t).to_owned()).await?;

        m.create_table(
            Table::create()
                .table(ChallengeThemes::Table)
                .col(big(ChallengeThemes::ChallengeId))
                .col(text(ChallengeThemes::Theme))
                .primary_key(Index::create().col(ChallengeThemes::ChallengeId).col(ChallengeThemes::Theme))
                .foreign_key(&mut fk(
                    ChallengeThemes::Table,
                    ChallengeThemes::ChallengeId,
                    Challenges::Table,
                    Common::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("challenge_themes_theme", ChallengeThemes::Table, &["theme", "challenge_id"])).await?;

        let mut t = Table::create();
        t.table(Initiatives::Table);
        owned_content(&mut t, Initiatives::Table).col(text(Common::Status));
        m.create_table(lifecycle(&mut t).to_owned()).await?;

        let mut t = Table::create();
        t.table(ProjectIdeas::Table);
        owned_content(&mut t, ProjectIdeas::Table).col(text(ProjectIdeas::Stage));
        m.create_table(lifecycle(&mut t).to_owned()).await?;

        // Links: (owner item, linked item), each with its own foreign keys.
        for (table, left, left_to, right, right_to) in [
            (
                Links::InitiativeChallenges,
                Links::InitiativeId,
                Initiatives::Table.into_iden(),
                Links::ChallengeId,
                Challenges::Table.into_iden(),
            ),
            (
                Links::ProjectIdeaChallenges,
                Links::ProjectIdeaId,
                ProjectIdeas::Table.into_iden(),
                Links::ChallengeId,
                Challenges::Table.into_iden(),
            ),
            (
                Links::ProjectIdeaInitiatives,
                Links::ProjectIdeaId,
                ProjectIdeas::Table.into_iden(),
                Links::InitiativeId,
                Initiatives::Table.into_iden(),
            ),
            (
                Links::ProjectIdeaPartners,
                Links::ProjectIdeaId,
                ProjectIdeas::Table.into_iden(),
                Links::MunicipalityId,
                Municipalities::Table.into_iden(),
            ),
        ] {
            m.create_table(
                Table::create()
                    .table(table)
                    .col(big(left))
                    .col(big(right))
                    .primary_key(Index::create().col(left).col(right))
                    .foreign_key(&mut fk(table, left, left_to, Common::Id))
                    .foreign_key(&mut fk(table, right, right_to, Common::Id))
                    .to_owned(),
            )
            .await?;
            let name = format!("{}_linked", table.to_string());
            m.create_index(Index::create().name(&name).table(table).col(right).col(left).to_owned()).await?;
        }

        let mut t = Table::create();
        t.table(Recommendations::Table);
        id(&mut t, Common::Id)
            .col(big(Common::WorkingGroupId))
            .col(big(Common::MunicipalityId))
            .col(text(Common::Country))
            .col(text(Recommendations::TargetKind))
            .col(big(Recommendations::TargetId))
            .col(big(Recommendations::TargetMunicipalityId))
            .col(text(Recommendations::TargetCountry))
            .col(text(Recommendations::Kind))
            .col(text(Recommendations::Body))
            .col(ColumnDef::new(Recommendations::AuthorInitiativeId).big_integer().null())
            .col(text(Recommendations::AnswerState))
            .col(text(Recommendations::AnswerNote))
            .col(ColumnDef::new(Recommendations::AnswerTime).big_integer().null())
            .foreign_key(&mut fk(Recommendations::Table, Common::WorkingGroupId, WorkingGroups::Table, Common::Id))
            .foreign_key(&mut fk(Recommendations::Table, Common::MunicipalityId, Municipalities::Table, Common::Id))
            .foreign_key(&mut fk(
                Recommendations::Table,
                Recommendations::TargetMunicipalityId,
                Municipalities::Table,
                Common::Id,
            ))
            .foreign_key(&mut fk(
                Recommendations::Table,
                Recommendations::AuthorInitiativeId,
                Initiatives::Table,
                Common::Id,
            ));
        m.create_table(lifecycle(&mut t).to_owned()).await?;

        for (table, prefix) in [
            (Challenges::Table.into_iden(), "challenges"),
            (Initiatives::Table.into_iden(), "initiatives"),
            (ProjectIdeas::Table.into_iden(), "project_ideas"),
            (Recommendations::Table.into_iden(), "recommendations"),
        ] {
            for cols in [
                &["municipality_id", "id"][..],
                &["working_group_id", "id"],
                &["country", "id"],
                &["update_time", "id"],
            ] {
                let name = format!("{prefix}_{}", cols[0]);
                m.create_index(index(&name, table.clone(), cols)).await?;
            }
        }
        m.create_index(index("recommendations_target", Recommendations::Table, &["target_kind", "target_id", "id"]))
            .await?;
        m.create_index(index(
            "recommendations_target_municipality",
            Recommendations::Table,
            &["target_municipality_id", "id"],
        ))
        .await?;

        let mut t = Table::create();
        t.table(Events::Table);
        id(&mut t, Common::Id)
            .col(text(Events::Kind))
            .col(text(Events::Resource))
            .col(ColumnDef::new(Common::WorkingGroupId).big_integer().null())
            .col(ColumnDef::new(Common::Country).text().null())
            .col(ColumnDef::new(Common::MunicipalityId).big_integer().null())
            .col(ColumnDef::new(Common::Visibility).text().null())
            .col(text(Events::Actor))
            .col(big(Common::CreateTime))
            .col(text(Events::Payload));
        m.create_table(t.to_owned()).await?;
        m.create_index(index("events_group", Events::Table, &["working_group_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table(RequestIds::Table)
                .col(text(RequestIds::Scope))
                .col(text(RequestIds::RequestId))
                .col(text(RequestIds::Method))
                .col(text(RequestIds::Fingerprint))
                .col(text(Events::Resource))
                .col(big(Common::CreateTime))
                .primary_key(Index::create().col(RequestIds::Scope).col(RequestIds::RequestId))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables: [DynIden; 15] = [
            RequestIds::Table.into_iden(),
            Events::Table.into_iden(),
            Recommendations::Table.into_iden(),
            Links::ProjectIdeaPartners.into_iden(),
            Links::ProjectIdeaInitiatives.into_iden(),
            Links::ProjectIdeaChallenges.into_iden(),
            Links::InitiativeChallenges.into_iden(),
            ProjectIdeas::Table.into_iden(),
            Initiatives::Table.into_iden(),
            ChallengeThemes::Table.into_iden(),
            Challenges::Table.into_iden(),
            WorkshopAttendees::Table.into_iden(),
            Workshops::Table.into_iden(),
            Memberships::Table.into_iden(),
            WorkingGroups::Table.into_iden(),
        ];
        for t in tables {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.drop_table(Table::drop().table(Municipalities::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Common {
    Id,
    Version,
    CreateTime,
    UpdateTime,
    ArchiveTime,
    WorkingGroupId,
    MunicipalityId,
    Country,
    Title,
    Description,
    Visibility,
    Status,
}

#[derive(DeriveIden, Clone, Copy)]
enum Municipalities {
    Table,
    DisplayName,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkingGroups {
    Table,
    DisplayName,
    Themes,
    StartDate,
    EndDate,
    MemberCount,
}

#[derive(DeriveIden, Clone, Copy)]
enum Memberships {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Workshops {
    Table,
    DisplayName,
    Phase,
    Date,
    DurationMinutes,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkshopAttendees {
    Table,
    WorkshopId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Challenges {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChallengeThemes {
    Table,
    ChallengeId,
    Theme,
}

#[derive(DeriveIden, Clone, Copy)]
enum Initiatives {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectIdeas {
    Table,
    Stage,
}

#[derive(DeriveIden, Clone, Copy)]
enum Links {
    InitiativeChallenges,
    ProjectIdeaChallenges,
    ProjectIdeaInitiatives,
    ProjectIdeaPartners,
    InitiativeId,
    ChallengeId,
    ProjectIdeaId,
    MunicipalityId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Recommendations {
    Table,
    TargetKind,
    TargetId,
    TargetMunicipalityId,
    TargetCountry,
    Kind,
    Body,
    AuthorInitiativeId,
    AnswerState,
    AnswerNote,
    AnswerTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    Kind,
    Resource,
    Actor,
    Payload,
}

#[derive(DeriveIden, Clone, Copy)]
enum RequestIds {
    Table,
    Scope,
    RequestId,
    Method,
    Fingerprint,
}
