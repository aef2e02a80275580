//! The demo (`scps demo`) seeds a true calendar and a service a newcomer can try: every bank
//! holiday of the year, no school work in school holidays, a SENCO who can book, a series of
//! visits with a clash to clear, and a second service that sees nothing of the first.

use chrono::{Duration, NaiveDate, Utc};
use scps_tests::TestApp;
use serde_json::{Value, json};

const PASSWORD: &str = scps::demo::DEMO_PASSWORD;

async fn seeded() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    scps::demo::seed_into(&app.services).await.expect("the demo seeds");
    let admin = app.sign_in("dana.admin@eps.demo.invalid", PASSWORD).await;
    let senco = app.sign_in("sam.patel@ashgrove.demo.invalid", PASSWORD).await;
    (app, admin, senco)
}

async fn service_id(app: &TestApp, token: &str) -> String {
    let a = app.gql(token, "{ viewer { services { id } } }", json!({})).await;
    a.ok()["viewer"]["services"][0]["id"].as_str().unwrap().to_owned()
}

/// Every booking the administrator sees, page by page.
async fn all_bookings(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let a = app
            .gql(
                token,
                "query($a: String) { bookings(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id kind startsAt status schoolId seriesId } } } }",
                json!({ "a": after }),
            )
            .await;
        let page = &a.ok()["bookings"];
        out.extend(page["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if page["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

#[tokio::test]
async fn the_demo_calendar_is_true_and_has_no_school_work_in_the_holidays() {
    let (app, admin, _) = seeded().await;
    let service = service_id(&app, &admin).await;
    let years = app
        .gql(
            &admin,
            "query($id: ID!) { service(id: $id) { academicYears { startsOn endsOn terms { term { startsOn endsOn } halfTerms { startsOn endsOn } } } } }",
            json!({ "id": service }),
        )
        .await;
    let year = &years.ok()["service"]["academicYears"][0];
    let parse = |v: &Value| v.as_str().unwrap().parse::<NaiveDate>().unwrap();
    let mut taught: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for t in year["terms"].as_array().unwrap() {
        let halves = t["halfTerms"].as_array().unwrap();
        if halves.is_empty() {
            taught.push((parse(&t["term"]["startsOn"]), parse(&t["term"]["endsOn"])));
        }
        taught.extend(halves.iter().map(|h| (parse(&h["startsOn"]), parse(&h["endsOn"]))));
    }
    let (start, end) = (parse(&year["startsOn"]), parse(&year["endsOn"]));
    let closures = app
        .gql(
            &admin,
            "query($id: ID!, $f: Date!, $t: Date!) { service(id: $id) { closures(from: $f, to: $t) { kind startsOn reason } } }",
            json!({ "id": service, "f": start.to_string(), "t": end.to_string() }),
        )
        .await;
    let holidays: Vec<String> = closures.ok()["service"]["closures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "BANK_HOLIDAY")
        .map(|c| c["reason"].as_str().unwrap_or_default().to_owned())
        .collect();
    for name in [
        "Christmas Day",
        "Boxing Day",
        "New Year's Day",
        "Good Friday",
        "Easter Monday",
        "Early May bank holiday",
        "Spring bank holiday",
        "Summer bank holiday",
    ] {
        assert!(holidays.iter().any(|h| h == name), "no {name}: {holidays:?}");
    }

    let bookings = all_bookings(&app, &admin).await;
    assert!(
        bookings.len() > 30,
        "the demo has a term of bookings: {}",
        bookings.len()
    );
    let london = chrono_tz::Europe::London;
    for b in bookings
        .iter()
        .filter(|b| b["kind"] != "TRAINING" && b["kind"] != "OTHER")
    {
        let at: chrono::DateTime<Utc> = b["startsAt"].as_str().unwrap().parse().unwrap();
        let day = at.with_timezone(&london).date_naive();
        assert!(
            taught.iter().any(|(s, e)| *s <= day && day <= *e),
            "a demo booking on {day} is in a school holiday: {b}"
        );
    }
    assert!(
        bookings.iter().any(|b| b["seriesId"].is_string()),
        "the demo has a series of visits"
    );
    // The training day that falls on one of the series' visits is a clash to clear.
    let conflicts = app
        .gql(
            &admin,
            "query($s: ID!, $f: DateTime!, $t: DateTime!) { conflicts(serviceId: $s, from: $f, to: $t) { booking { seriesId } reasons } }",
            json!({ "s": service, "f": Utc::now().to_rfc3339(), "t": (Utc::now() + Duration::days(300)).to_rfc3339() }),
        )
        .await;
    assert!(
        conflicts.ok()["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["booking"]["seriesId"].is_string() && c["reasons"] == json!(["EP_UNAVAILABLE"])),
        "{}",
        conflicts.body
    );
}

/// The school's remaining traded time, as its SENCO sees it.
async fn traded_remaining(app: &TestApp, token: &str, school: &str) -> i64 {
    let a = app
        .gql(
            token,
            "query($id: ID!) { node(id: $id) { ... on School { balance { fundingStream balance { remainingMinutes } } } } }",
            json!({ "id": school }),
        )
        .await;
    a.ok()["node"]["balance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["fundingStream"] == "TRADED")
        .unwrap_or_else(|| panic!("a traded contract: {}", a.body))["balance"]["remainingMinutes"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn in_the_demo_a_senco_books_a_free_slot_of_the_link_ep_within_the_allocation() {
    let (app, _, senco) = seeded().await;
    let me = app
        .gql(&senco, "{ viewer { memberships { school { id } } } }", json!({}))
        .await;
    let school = me.ok()["viewer"]["memberships"][0]["school"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = traded_remaining(&app, &senco, &school).await;
    // The first free hour in the coming weeks of the school's EPs.
    let mut from = Utc::now() + Duration::days(2);
    let slot = loop {
        let a = app
            .gql(
                &senco,
                "query($i: AvailabilityInput!) { availability(input: $i, first: 1) { edges { node { startsAt endsAt epId visitId } } } }",
                json!({ "i": { "schoolId": school, "from": from.to_rfc3339(), "to": (from + Duration::days(28)).to_rfc3339(), "durationMinutes": 60 } }),
            )
            .await;
        if let Some(node) = a.ok()["availability"]["edges"][0]["node"].as_object() {
            break node.clone();
        }
        from += Duration::days(28);
        assert!(from < Utc::now() + Duration::days(300), "no free slot all year");
    };
    let made = app
        .gql(
            &senco,
            "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id } } userErrors { field message code } } }",
            json!({ "i": { "schoolId": school, "epId": slot["epId"], "visitId": slot["visitId"], "kind": "CONSULTATION", "startsAt": slot["startsAt"], "endsAt": slot["endsAt"] } }),
        )
        .await;
    assert!(
        made.ok()["createBooking"]["result"]["booking"]["id"].is_string(),
        "{}",
        made.body
    );
    let after = traded_remaining(&app, &senco, &school).await;
    // Inside a visit the visit carries the time; otherwise the consultation draws it down.
    if slot["visitId"].is_null() {
        assert_eq!(after, before - 60);
    } else {
        assert_eq!(after, before);
    }
}

#[tokio::test]
async fn the_demos_second_service_sees_only_itself() {
    let (app, admin, _) = seeded().await;
    let theirs = app.sign_in("lee.admin@southfell.demo.invalid", PASSWORD).await;
    let schools = app
        .gql(
            &theirs,
            "{ schools(first: 50) { totalCount edges { node { id name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(schools.ok()["schools"]["totalCount"], 2, "{}", schools.body);
    let ours = app
        .gql(
            &admin,
            "{ schools(first: 50) { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    let our_names = ours.ok()["schools"].to_string();
    for s in schools.ok()["schools"]["edges"].as_array().unwrap() {
        assert!(!our_names.contains(s["node"]["name"].as_str().unwrap()));
        let node = app
            .gql(
                &admin,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": s["node"]["id"] }),
            )
            .await;
        assert!(node.ok()["node"].is_null());
    }
}

#[tokio::test]
async fn the_demo_has_space_to_talk_booked_by_the_senco_and_by_a_parent_with_attendance_in_the_figures() {
    use chrono::Datelike;
    let today = Utc::now().date_naive();
    // Around the summer holiday the demo's one academic year may hold no term-time afternoon
    // in the weeks it looks at; then it seeds no Space to Talk, and there is nothing to check.
    if today.month() == 8 || (today.month() == 9 && today.day() <= 21) || (today.month() == 7 && today.day() >= 10) {
        eprintln!("skipped: the demo's Space to Talk needs term time around {today}");
        return;
    }
    let (app, admin, senco) = seeded().await;
    let service = service_id(&app, &admin).await;
    let up = app
        .gql(
            &senco,
            "{ upcomingSpaceToTalkSessions { displayName bookedVia movedFromId status } }",
            json!({}),
        )
        .await;
    let list = up.ok()["upcomingSpaceToTalkSessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{}", up.body);
    assert!(list.iter().any(|b| b["bookedVia"] == "SCHOOL"));
    assert!(
        list.iter()
            .any(|b| b["bookedVia"] == "PARENT_LINK" && b["movedFromId"].is_string()),
        "a parent booked through the link and moved: {}",
        up.body
    );
    let figures = app
        .gql(
            &senco,
            "query($s: ID!) { spaceToTalkAttendance(serviceId: $s) { attended didNotAttend booked safeguardingConcerns } }",
            json!({ "s": service }),
        )
        .await;
    let rows = figures.ok()["spaceToTalkAttendance"].as_array().unwrap().clone();
    let sum = |k: &str| rows.iter().map(|r| r[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(
        (
            sum("attended"),
            sum("didNotAttend"),
            sum("booked"),
            sum("safeguardingConcerns")
        ),
        (2, 1, 2, 1),
        "{}",
        figures.body
    );
}

#[tokio::test]
async fn the_demo_has_two_semh_rounds_at_ashgrove_that_show_what_moved_and_a_service_picture() {
    let (app, admin, senco) = seeded().await;
    let ashgrove = app
        .gql(&senco, "{ schools { edges { node { id } } } }", json!({}))
        .await
        .ok()["schools"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rounds = app
        .gql(
            &senco,
            "query($s: ID!) { semhRounds(schoolId: $s) { id title status template { id starter } respondents { kind } actions { status carriedFromId } } }",
            json!({ "s": ashgrove }),
        )
        .await;
    let list = rounds.ok()["semhRounds"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{}", rounds.body);
    let (spring, autumn) = (&list[0], &list[1]);
    assert!(
        list.iter()
            .all(|r| r["status"] == "SUBMITTED" && r["template"]["starter"] == "EIGHT_PRINCIPLES")
    );
    let kinds: Vec<&str> = autumn["respondents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"INDIVIDUAL") && kinds.contains(&"GROUP"), "{kinds:?}");
    let carried = spring["actions"].as_array().unwrap();
    assert_eq!(carried.len(), 2, "the two unfinished priorities: {}", spring);
    assert!(carried.iter().all(|a| a["carriedFromId"].is_string()));
    let cmp = app
        .gql(
            &senco,
            "query($a: ID!, $b: ID!) { semhComparison(fromRoundId: $a, toRoundId: $b) { items { change } } }",
            json!({ "a": autumn["id"], "b": spring["id"] }),
        )
        .await;
    let improved = cmp.ok()["semhComparison"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["change"] == "IMPROVED")
        .count();
    assert!(improved > 0, "{}", cmp.body);
    let picture = app
        .gql(
            &admin,
            "query($t: ID!) { semhServicePicture(templateId: $t) { groups { phase shown schools } } }",
            json!({ "t": spring["template"]["id"] }),
        )
        .await;
    let groups = picture.ok()["semhServicePicture"]["groups"].as_array().unwrap().clone();
    assert_eq!(groups[0]["shown"], true, "{}", picture.body);
    assert_eq!(groups[0]["schools"], 8);
    assert!(
        groups[1..].iter().all(|g| g["shown"] == false),
        "every phase has fewer than five schools"
    );
}
