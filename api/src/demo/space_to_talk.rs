//! The demo's Space to Talk (issue 20), made through the domain as people would make it.

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};

use domain::access::Caller;
use domain::db::Db;
use domain::ids::SchoolId;
use domain::model::BookingMode;
use domain::space_to_talk::{booking, links, runs};
use domain::time::local_to_utc;

use super::{EPS, caller_for, fail, time};

/// Space to Talk at Ashgrove Primary: its link EP publishes an afternoon of slots (13:00 to 16:45) on the next
/// free term-time Wednesday or Thursday; the SENCO books a parent into one; a second parent books
/// through the school's link and moves to a later time. An afternoon held a few weeks ago has
/// its attendance recorded by the EP (one safeguarding flag), so the school's figures show it.
pub(super) async fn seed(
    db: &Db,
    admin: &Caller,
    school: SchoolId,
    tz: chrono_tz::Tz,
) -> anyhow::Result<Option<String>> {
    let ep = caller_for(db, EPS[0].1).await?;
    let ep_id = ep
        .principal
        .person_id()
        .ok_or_else(|| anyhow::anyhow!("the demo EP is a person"))?;
    let senco = caller_for(db, "sam.patel@ashgrove.demo.invalid").await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let monday = today - Days::days(i64::from(today.weekday().num_days_from_monday()));
    let run_on = |who: &Caller, day: NaiveDate, past: bool| {
        let who = who.clone();
        async move {
            runs::publish(
                db,
                &who,
                runs::NewRun {
                    service_id: None,
                    school_ids: vec![school],
                    whole_service: false,
                    ep_id: Some(ep_id),
                    starts_at: local_to_utc(tz, day, time(13, 0)),
                    slots: 4,
                    slot_minutes: None,
                    gap_minutes: 15,
                    mode: BookingMode::InPerson,
                    location: Some("Family room, by the main office".into()),
                    short_notice_reason: past.then(|| "Recorded after the sessions (demo)".into()),
                },
            )
            .await
            .map_err(fail)
        }
    };
    // The next free term-time afternoon, and one a few weeks back (either may not exist when the
    // demo is seeded in the summer holiday).
    let candidates = |weeks: std::ops::RangeInclusive<i64>, back: bool| {
        let mut days = Vec::new();
        for w in weeks {
            let w = if back { -w } else { w };
            for d in [2, 3] {
                days.push(monday + Days::weeks(w) + Days::days(d));
            }
        }
        days
    };
    let mut upcoming = None;
    for day in candidates(1..=12, false) {
        if let Ok(r) = run_on(&ep, day, false).await {
            upcoming = Some(r);
            break;
        }
    }
    let mut held = None;
    for day in candidates(2..=12, true) {
        if let Ok(r) = run_on(admin, day, true).await {
            held = Some(r);
            break;
        }
    }
    let mut page = None;
    let parent = |name: &str, phone: Option<&str>, email: Option<&str>| booking::Parent {
        display_name: name.to_owned(),
        phone: phone.map(str::to_owned),
        email: email.map(str::to_owned),
        preferred_contact: None,
        topic: None,
    };
    if let Some(run) = &upcoming {
        let slots: Vec<_> = run.slots.iter().map(|s| s.id).collect();
        if let [first, second, _, last] = slots.as_slice() {
            booking::book(
                db,
                &senco,
                *first,
                None,
                booking::Parent {
                    topic: Some("Worries about starting Year 3".into()),
                    ..parent("Alex (demo parent)", Some("07700 900001"), None)
                },
            )
            .await
            .map_err(fail)?;
            let link = links::issue(db, &senco, school, 30).await.map_err(fail)?;
            let booked = links::book(
                db,
                &link.token,
                *second,
                parent("Jordan (demo carer)", None, Some("jordan@example.invalid")),
                "demo-seed",
            )
            .await
            .map_err(fail)?;
            links::move_to(db, &booked.manage_token, *last, "demo-seed")
                .await
                .map_err(fail)?;
            page = Some(format!("/space-to-talk/{}", link.token));
        }
    }
    if let Some(run) = &held {
        let mut first = true;
        for s in run.slots.iter().take(3) {
            let b = booking::book(
                db,
                admin,
                s.id,
                None,
                parent("A demo parent", Some("07700 900002"), None),
            )
            .await
            .map_err(fail)?;
            booking::record_attendance(
                db,
                &ep,
                b.row.id,
                booking::Attendance {
                    attended: s.id != run.slots[2].id,
                    safeguarding_concern: Some(std::mem::take(&mut first)),
                    ..booking::Attendance::default()
                },
            )
            .await
            .map_err(fail)?;
        }
    }
    Ok(page)
}
