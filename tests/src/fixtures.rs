//! A tenant with a working calendar: EPs' patterns, an academic year with a half-term and a
//! holiday, and a contract for each school. Shared by the tests of EP time and of the areas
//! built on it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::clock::monday_in;
use crate::{Answer, Tenant, TestApp};

async fn gql(app: &TestApp, token: &str, q: &str, v: Value) -> Answer {
    app.gql(token, q, v).await
}

/// The start of every slot an `availability { edges { node { startsAt } } }` answer lists.
pub fn slot_starts(a: &Answer) -> Vec<DateTime<Utc>> {
    a.ok()["availability"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("slots: {}", a.body))
        .iter()
        .map(|e| e["node"]["startsAt"].as_str().unwrap().parse().unwrap())
        .collect()
}

pub fn d(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A tenant with EPs working Monday to Friday 09:00 to 17:00, an academic year around the
/// coming weeks (Term 1 in two halves with a half-term week between them, a holiday week, then
/// Term 2), and a contract of ten days for each school with the first EP as link EP.
pub struct Fx {
    pub app: TestApp,
    pub t: Tenant,
    /// The Monday Term 1 starts.
    pub base: NaiveDate,
    pub year: String,
    pub terms: Vec<String>,
    pub contract_a: String,
    pub contract_b: String,
    pub day_unit: String,
}

impl Fx {
    /// Monday of week `n` of the calendar (week 0 starts Term 1).
    pub fn week(&self, n: i64) -> NaiveDate {
        self.base + Duration::weeks(n)
    }
    pub fn half_term(&self) -> NaiveDate {
        self.week(2)
    }
    pub fn holiday(&self) -> NaiveDate {
        self.week(6)
    }
}

pub async fn set_pattern(app: &TestApp, t: &Tenant, ep: &str, days: &[i32], from: &str) -> Answer {
    let hours: Vec<Value> = days
        .iter()
        .map(|d| json!({ "weekday": d, "startsAt": "09:00", "endsAt": "17:00" }))
        .collect();
    gql(
        app,
        &t.admin.token,
        "mutation($i: SetWorkingPatternInput!) { setWorkingPattern(input: $i) { workingPattern { id } clashes { booking { id } reasons } userErrors { field code message } } }",
        json!({ "i": { "serviceId": t.service_id, "epId": ep, "effectiveFrom": from, "fte": 1.0, "hours": hours } }),
    )
    .await
}

pub async fn contract(app: &TestApp, t: &Tenant, school: &str, year: &str, unit: &str, quantity: f64) -> String {
    let a = gql(
        app,
        &t.admin.token,
        "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { field message } } }",
        json!({ "i": { "schoolId": school, "periodKind": "ACADEMIC_YEAR", "academicYearId": year, "fundingStream": "TRADED", "unitId": unit, "quantity": quantity, "linkEpId": t.ep.person_id } }),
    )
    .await;
    a.ok()["createContract"]["contract"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("contract: {}", a.body))
        .to_owned()
}

pub async fn fixture() -> Fx {
    fixture_starting(2).await
}

/// The same calendar with Term 1 starting `weeks` weeks from this week's Monday (negative: in
/// the past, for work that has been held).
pub async fn fixture_starting(weeks: i64) -> Fx {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let base = monday_in(weeks);
    for ep in [&t.ep.person_id, &t.other_ep.person_id] {
        let a = set_pattern(&app, &t, ep, &[1, 2, 3, 4, 5], "2020-01-01").await;
        assert!(
            a.ok()["setWorkingPattern"]["workingPattern"]["id"].is_string(),
            "{}",
            a.body
        );
    }
    let fri = |w: i64| base + Duration::weeks(w) + Duration::days(4);
    let y = gql(
        &app,
        &t.admin.token,
        "mutation($i: CreateAcademicYearInput!) { createAcademicYear(input: $i) { academicYear { id terms { term { id name } } } userErrors { field message } } }",
        json!({ "i": { "serviceId": t.service_id, "name": "Test year", "startsOn": d(base - Duration::days(14)), "endsOn": d(base + Duration::days(300)), "terms": [
            { "name": "Term 1", "startsOn": d(base), "endsOn": d(fri(5)), "halfTerms": [
                { "name": "Half 1", "startsOn": d(base), "endsOn": d(fri(1)) },
                { "name": "Half 2", "startsOn": d(base + Duration::weeks(3)), "endsOn": d(fri(5)) } ] },
            { "name": "Term 2", "startsOn": d(base + Duration::weeks(7)), "endsOn": d(fri(11)) }
        ] } }),
    )
    .await;
    let year = y.ok()["createAcademicYear"]["academicYear"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("year: {}", y.body))
        .to_owned();
    let terms: Vec<String> = y.ok()["createAcademicYear"]["academicYear"]["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"]["id"].as_str().unwrap().to_owned())
        .collect();
    let units = gql(
        &app,
        &t.admin.token,
        "query($id: ID!) { service(id: $id) { units { id name } } }",
        json!({ "id": t.service_id }),
    )
    .await;
    let day_unit = units.ok()["service"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "day")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let contract_a = contract(&app, &t, &t.school_a.id, &year, &day_unit, 10.0).await;
    let contract_b = contract(&app, &t, &t.school_b.id, &year, &day_unit, 10.0).await;
    Fx {
        app,
        t,
        base,
        year,
        terms,
        contract_a,
        contract_b,
        day_unit,
    }
}
