//! The demo's reflective-team sessions (issue 21), made through the domain as people would make
//! them: an EP schedules a cluster reflecting team for three schools, their staff fill it and a
//! waiting list forms, one gives up a place and the first waiting person is promoted, the session
//! is held with roles, the presenter's next step and feedback, and each school's balance shows
//! its share; ELSA supervision follows as a half-termly series.

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};

use domain::access::{Caller, Role};
use domain::db::Db;
use domain::ids::{PersonId, SchoolId, ServiceId};
use domain::model::{BookingMode, ReflectiveCharging, ReflectiveRole};
use domain::reflective::{feedback, places, series, sessions, types};
use domain::time::local_to_utc;

use super::{caller_for, fail, person, time};

/// Staff of the first three schools (name, email), three a school, who take places.
const STAFF: [[(&str, &str); 3]; 3] = [
    [
        ("Alex Rowe", "alex.rowe@ashgrove.demo.invalid"),
        ("Priya Shah", "priya.shah@ashgrove.demo.invalid"),
        ("Tom Hale", "tom.hale@ashgrove.demo.invalid"),
    ],
    [
        ("Nia Evans", "nia.evans@birchfield.demo.invalid"),
        ("Ben Carter", "ben.carter@birchfield.demo.invalid"),
        ("Lucy Ward", "lucy.ward@birchfield.demo.invalid"),
    ],
    [
        ("Omar Aziz", "omar.aziz@cedarbank.demo.invalid"),
        ("Ella Moss", "ella.moss@cedarbank.demo.invalid"),
        ("Kit Morgan", "kit.morgan@cedarbank.demo.invalid"),
    ],
];

pub(super) async fn seed(
    db: &Db,
    admin: &Caller,
    service: ServiceId,
    school_ids: &[SchoolId],
    eps: &[PersonId],
    tz: chrono_tz::Tz,
) -> anyhow::Result<()> {
    let schools: Vec<SchoolId> = school_ids.iter().take(3).copied().collect();
    if schools.len() < 3 || eps.is_empty() {
        return Ok(());
    }
    let mut staff: Vec<(PersonId, Caller)> = Vec::new();
    for (k, school) in schools.iter().enumerate() {
        for (name, email) in STAFF[k] {
            let p = person(db, admin, service, name, email, Role::SchoolStaff, Some(*school)).await?;
            staff.push((p, caller_for(db, email).await?));
        }
    }
    let ep = caller_for(db, super::EPS[0].1).await?;
    let all = types::list(db, &ep, service).await.map_err(fail)?;
    let Some(team) = all.iter().find(|t| t.name == "Reflecting team") else {
        return Ok(());
    };
    let elsa = all.iter().find(|t| t.name == "ELSA supervision").map(|t| t.id);

    // Last week's cluster session, found in the EP's free time (recorded after the event).
    let today = Utc::now().with_timezone(&tz).date_naive();
    let monday = today - Days::days(i64::from(today.weekday().num_days_from_monday()));
    let mut made = None;
    'find: for week in [1, 2, 3] {
        for day in 0..5 {
            let on: NaiveDate = monday - Days::weeks(week) + Days::days(day);
            let input = sessions::NewSession {
                type_id: team.id,
                school_ids: schools.clone(),
                starts_at: local_to_utc(tz, on, time(15, 15)),
                duration_minutes: None,
                mode: BookingMode::InPerson,
                location: Some("Ashgrove staff room".into()),
                facilitator_id: Some(eps[0]),
                co_facilitator_id: None,
                capacity: Some(8),
                charging: Some(ReflectiveCharging::SplitEvenly),
                charged_school_id: None,
                short_notice_reason: Some("Recorded in the demo".into()),
            };
            if let Ok(s) = sessions::schedule(db, admin, input).await {
                made = Some(s.session.row.id);
                break 'find;
            }
        }
    }
    let Some(session) = made else {
        tracing::warn!("no free time for the demo's reflective session");
        return Ok(());
    };
    // Nine staff and a SENCO for eight places: two wait.
    let mut placed = Vec::new();
    for (_, c) in &staff {
        placed.push(places::register(db, c, session, None).await.map_err(fail)?.registration);
    }
    let senco = caller_for(db, "sam.patel@ashgrove.demo.invalid").await?;
    places::register(db, &senco, session, None).await.map_err(fail)?;
    // One gives up a place: the first waiting person gets it.
    let gone = placed.remove(1);
    let changed = places::cancel(db, &staff[1].1, gone.row.id).await.map_err(fail)?;
    tracing::info!(promoted = changed.promoted.is_some(), "demo waiting list moved up");
    let whole = domain::reflective::get(db, &ep, session).await.map_err(fail)?;
    let registered: Vec<_> = whole
        .registrations
        .iter()
        .filter(|r| r.row.status == domain::model::PlaceStatus::Registered)
        .map(|r| r.row.clone())
        .collect();
    for (k, r) in registered.iter().enumerate() {
        let role = match k {
            0 => ReflectiveRole::Presenter,
            1 => ReflectiveRole::Timekeeper,
            2 => ReflectiveRole::Recorder,
            _ => ReflectiveRole::Reflector,
        };
        places::assign_role(db, &ep, r.id, Some(role)).await.map_err(fail)?;
    }
    let attended: Vec<_> = registered.iter().take(7).map(|r| r.id).collect();
    sessions::hold(db, &ep, session, attended.clone(), None)
        .await
        .map_err(fail)?;
    if let Some(presenter) = registered.first() {
        let who = staff
            .iter()
            .find(|(p, _)| *p == presenter.person_id)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| ep.clone());
        places::record_next_step(
            db,
            &who,
            presenter.id,
            "Try a two-minute check-in at the door each morning",
        )
        .await
        .map_err(fail)?;
    }
    for (rating, r) in [(5, 0), (4, 1), (4, 3)] {
        let Some(place) = registered.get(r) else { continue };
        if let Some((_, c)) = staff.iter().find(|(p, _)| *p == place.person_id) {
            feedback::give(db, c, session, rating, Some("Helpful to hear other ways of seeing it"))
                .await
                .map_err(fail)?;
        }
    }

    // ELSA supervision, half-termly for the rest of the year, online.
    if let Some(elsa) = elsa {
        let mut first = monday + Days::weeks(2) + Days::days(2);
        for _ in 0..8 {
            let input = series::NewSeries {
                first: sessions::NewSession {
                    type_id: elsa,
                    school_ids: schools.clone(),
                    starts_at: local_to_utc(tz, first, time(13, 30)),
                    duration_minutes: None,
                    mode: BookingMode::Online,
                    location: None,
                    facilitator_id: Some(eps[0]),
                    co_facilitator_id: None,
                    capacity: None,
                    charging: Some(ReflectiveCharging::ByAttendance),
                    charged_school_id: None,
                    short_notice_reason: None,
                },
                cadence: series::Cadence::HalfTermly,
                until: NaiveDate::from_ymd_opt(super::year_start(today) + 1, 7, 21).unwrap_or(today),
            };
            match series::schedule_series(db, &ep, input).await {
                Ok(m) if !m.sessions.is_empty() => {
                    tracing::info!(
                        sessions = m.sessions.len(),
                        skipped = m.skipped.len(),
                        "demo ELSA series made"
                    );
                    break;
                }
                _ => first += Days::weeks(1),
            }
        }
    }
    Ok(())
}
