//! SEMH audits (issue 22): the starter templates, a published version frozen and revised with
//! items carried over, a round with individual, group and table responses, the consensus and a
//! submission that locks the round, the action plan carried into the next round, comparison
//! within a lineage (and refused across lineages), the service's picture with small groups not
//! shown, what each role sees (another school and another service: not found), and bad inputs
//! answered with userErrors and nothing written.

use domain::access::{Action, Relation, Role, table_allows};
use scps_tests::fixtures::{Fx, fixture};
use scps_tests::oracle::{random, same_as_missing};
use scps_tests::{Account, Answer, TestApp};
use serde_json::{Value, json};

const TEMPLATE: &str = "id name version status starter asksIdeas lineageId revisesId scale { key band dontKnow } sections { id title items { id text lineageItemId carriesOverItemId } }";
const ROUND: &str = "id title status limited template { id name } respondents { id kind name mine } responses { itemId respondentId rating evidence ideas } consensus { itemId rating } results { respondents overall { key count } items { itemId counts { key count } responses consensus spread } sections { title counts { key count } } mostDivergentItemIds } actions { id priority status itemId carriedFromId ownerRole progress { note } }";

fn mutation(name: &str, input: &str, result: &str) -> String {
    format!("mutation($i: {input}!) {{ {name}(input: $i) {{ {result} userErrors {{ field message code }} }} }}")
}

async fn gql(app: &TestApp, token: &str, q: &str, v: Value) -> Answer {
    app.gql(token, q, v).await
}

fn codes(a: &Answer, field: &str) -> Vec<String> {
    a.body["data"][field]["userErrors"]
        .as_array()
        .map(|v| v.iter().filter_map(|e| e["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn templates(app: &TestApp, token: &str, service: &str) -> Vec<Value> {
    let a = gql(
        app,
        token,
        &format!("query($s: ID!) {{ semhTemplates(serviceId: $s) {{ {TEMPLATE} }} }}"),
        json!({ "s": service }),
    )
    .await;
    a.ok()["semhTemplates"].as_array().cloned().unwrap_or_default()
}

async fn starter(app: &TestApp, token: &str, service: &str, key: &str) -> Value {
    templates(app, token, service)
        .await
        .into_iter()
        .find(|t| t["starter"] == key && t["status"] == "PUBLISHED")
        .unwrap_or_else(|| panic!("the {key} starter"))
}

fn items(t: &Value) -> Vec<String> {
    t["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned())
        })
        .collect()
}

async fn open_round(app: &TestApp, token: &str, school: &str, template: &str, extra: Value) -> Answer {
    let mut input = json!({ "schoolId": school, "templateId": template, "title": "Autumn audit" });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        i.extend(e.clone());
    }
    gql(
        app,
        token,
        &mutation("openSemhRound", "OpenSemhRoundInput", &format!("round {{ {ROUND} }}")),
        json!({ "i": input }),
    )
    .await
}

fn opened(a: &Answer) -> Value {
    let r = &a.ok()["openSemhRound"]["round"];
    assert!(r.is_object(), "opened: {}", a.body);
    r.clone()
}

/// A round of `template` at the first school, run as a whole-staff session, opened by its leader.
async fn whole_staff_round(app: &TestApp, t: &scps_tests::Tenant, template: &Value) -> String {
    let session = json!({ "session": { "startsAt": "2030-01-06T13:00:00Z", "endsAt": "2030-01-06T16:00:00Z" } });
    let r = opened(
        &open_round(
            app,
            &t.leader_a.token,
            &t.school_a.id,
            template["id"].as_str().unwrap(),
            session,
        )
        .await,
    );
    r["id"].as_str().unwrap().to_owned()
}

/// Adds a table to a whole-staff round; the table's link token.
async fn add_table(app: &TestApp, lead: &Account, round: &str, name: &str) -> String {
    let tb = gql(
        app,
        &lead.token,
        &mutation("addSemhGroup", "AddSemhGroupInput", "result { tableToken }"),
        json!({ "i": { "roundId": round, "name": name, "asTable": true } }),
    )
    .await;
    tb.ok()["addSemhGroup"]["result"]["tableToken"]
        .as_str()
        .unwrap_or_else(|| panic!("a table: {}", tb.body))
        .to_owned()
}

async fn respond(app: &TestApp, token: &str, round: &str, respondent: Option<&str>, answers: Value) -> Answer {
    gql(
        app,
        token,
        &mutation(
            "recordSemhResponses",
            "RecordSemhResponsesInput",
            "respondent { id kind mine }",
        ),
        json!({ "i": { "roundId": round, "respondentId": respondent, "responses": answers } }),
    )
    .await
}

fn all(items: &[String], rating: &str) -> Value {
    Value::Array(
        items
            .iter()
            .map(|i| json!({ "itemId": i, "rating": rating, "evidence": "seen in practice" }))
            .collect(),
    )
}

async fn consensus(app: &TestApp, token: &str, round: &str, ratings: Value) -> Answer {
    gql(
        app,
        token,
        &mutation(
            "setSemhConsensus",
            "SetSemhConsensusInput",
            "consensus { itemId rating }",
        ),
        json!({ "i": { "roundId": round, "ratings": ratings } }),
    )
    .await
}

async fn submit(app: &TestApp, token: &str, round: &str) -> Answer {
    gql(
        app,
        token,
        &mutation(
            "submitSemhRound",
            "SubmitSemhRoundInput",
            "round { id status submittedAt }",
        ),
        json!({ "i": { "id": round } }),
    )
    .await
}

async fn round(app: &TestApp, token: &str, id: &str) -> Answer {
    gql(
        app,
        token,
        &format!("query($id: ID!) {{ semhRound(id: $id) {{ {ROUND} }} }}"),
        json!({ "id": id }),
    )
    .await
}

/// A round opened, answered by one person, agreed with `ratings` (item i gets ratings[i % n]) and
/// submitted.
async fn completed(app: &TestApp, lead: &Account, school: &str, template: &Value, ratings: &[&str]) -> String {
    let r = opened(&open_round(app, &lead.token, school, template["id"].as_str().unwrap(), json!({})).await);
    let id = r["id"].as_str().unwrap().to_owned();
    let its = items(template);
    let a = respond(app, &lead.token, &id, None, all(&its, ratings[0])).await;
    assert!(codes(&a, "recordSemhResponses").is_empty(), "{}", a.body);
    let agreed: Vec<Value> = its
        .iter()
        .enumerate()
        .map(|(i, it)| json!({ "itemId": it, "rating": ratings[i % ratings.len()] }))
        .collect();
    let a = consensus(app, &lead.token, &id, Value::Array(agreed)).await;
    assert!(codes(&a, "setSemhConsensus").is_empty(), "{}", a.body);
    let a = submit(app, &lead.token, &id).await;
    assert_eq!(a.ok()["submitSemhRound"]["round"]["status"], "SUBMITTED", "{}", a.body);
    id
}

#[tokio::test]
async fn the_starters_are_published_and_a_published_version_never_changes() {
    let fx = fixture().await;
    let t = &fx.t;
    let all = templates(&fx.app, &t.admin.token, &t.service_id).await;
    assert_eq!(all.len(), 3, "three starters: {all:?}");
    let eight = all.iter().find(|x| x["starter"] == "EIGHT_PRINCIPLES").unwrap();
    assert_eq!(eight["sections"].as_array().unwrap().len(), 8);
    assert_eq!(eight["status"], "PUBLISHED");
    let keys: Vec<&str> = eight["scale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["RED", "AMBER", "GREEN", "DONT_KNOW"]);
    let five = all.iter().find(|x| x["starter"] == "FIVE_STEPS").unwrap();
    assert_eq!(five["sections"].as_array().unwrap().len(), 5);
    let resilience = all.iter().find(|x| x["starter"] == "RESILIENCE").unwrap();
    assert_eq!(resilience["asksIdeas"], true);
    assert_eq!(resilience["scale"].as_array().unwrap().len(), 3);
    assert!(
        resilience["scale"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["dontKnow"] == false)
    );
    // Looking again makes nothing new.
    assert_eq!(templates(&fx.app, &t.senco_a.token, &t.service_id).await.len(), 3);

    let content = json!({ "name": "Our own audit", "scale": [
        { "key": "NO", "label": "Not yet", "colour": "#aa0000", "band": "RED" },
        { "key": "YES", "label": "Yes", "colour": "#00aa00", "band": "GREEN" } ],
        "sections": [ { "title": "Ethos", "items": [ { "text": "Adults greet pupils by name" }, { "text": "Calm corridors" } ] } ] });
    let update = |id: &str, name: &str| {
        let mut input = content.clone();
        input["id"] = json!(id);
        input["name"] = json!(name);
        input
    };
    let published_update = gql(
        &fx.app,
        &t.admin.token,
        &mutation("updateSemhTemplate", "UpdateSemhTemplateInput", "template { id }"),
        json!({ "i": update(eight["id"].as_str().unwrap(), "Renamed") }),
    )
    .await;
    assert_eq!(
        codes(&published_update, "updateSemhTemplate"),
        ["INVALID_STATE"],
        "{}",
        published_update.body
    );
    let again = starter(&fx.app, &t.admin.token, &t.service_id, "EIGHT_PRINCIPLES").await;
    assert_eq!(again["name"], eight["name"], "the published version is unchanged");
    assert_eq!(items(&again), items(eight));

    let mut create = content.clone();
    create["serviceId"] = json!(t.service_id);
    let made = gql(
        &fx.app,
        &t.admin.token,
        &mutation(
            "createSemhTemplate",
            "CreateSemhTemplateInput",
            &format!("template {{ {TEMPLATE} }}"),
        ),
        json!({ "i": create }),
    )
    .await;
    let draft = made.ok()["createSemhTemplate"]["template"].clone();
    assert_eq!(draft["status"], "DRAFT", "{}", made.body);
    let id = draft["id"].as_str().unwrap().to_owned();
    // A SENCO does not see drafts, and cannot write templates.
    assert_eq!(templates(&fx.app, &t.senco_a.token, &t.service_id).await.len(), 3);
    let by_senco = gql(
        &fx.app,
        &t.senco_a.token,
        &mutation("createSemhTemplate", "CreateSemhTemplateInput", "template { id }"),
        json!({ "i": create }),
    )
    .await;
    assert_eq!(by_senco.code(), Some("FORBIDDEN"), "{}", by_senco.body);
    let draft_q = "query($id: ID!) { semhTemplate(id: $id) { id status } }";
    let hidden = gql(&fx.app, &t.senco_a.token, draft_q, json!({ "id": id })).await;
    assert_eq!(
        hidden.code(),
        Some("NOT_FOUND"),
        "a draft is the administrators' own: {}",
        hidden.body
    );
    let own = gql(&fx.app, &t.admin.token, draft_q, json!({ "id": id })).await;
    assert_eq!(own.ok()["semhTemplate"]["status"], "DRAFT");
    // A round on a draft is refused, and nothing is written.
    let on_draft = open_round(&fx.app, &t.leader_a.token, &t.school_a.id, &id, json!({})).await;
    assert_eq!(
        codes(&on_draft, "openSemhRound"),
        ["INVALID_STATE"],
        "{}",
        on_draft.body
    );
    assert_eq!(fx.app.count("semh_rounds").await, 0);

    let edited = gql(
        &fx.app,
        &t.admin.token,
        &mutation("updateSemhTemplate", "UpdateSemhTemplateInput", "template { name }"),
        json!({ "i": update(&id, "Our own audit, edited") }),
    )
    .await;
    assert_eq!(
        edited.ok()["updateSemhTemplate"]["template"]["name"],
        "Our own audit, edited"
    );
    let publish = mutation(
        "publishSemhTemplate",
        "SemhTemplateIdInput",
        &format!("template {{ {TEMPLATE} }}"),
    );
    let p = gql(&fx.app, &t.admin.token, &publish, json!({ "i": { "id": id } })).await;
    assert_eq!(p.ok()["publishSemhTemplate"]["template"]["status"], "PUBLISHED");
    let v1 = p.ok()["publishSemhTemplate"]["template"].clone();
    let frozen = gql(
        &fx.app,
        &t.admin.token,
        &mutation("updateSemhTemplate", "UpdateSemhTemplateInput", "template { id }"),
        json!({ "i": update(&id, "Changed after publishing") }),
    )
    .await;
    assert_eq!(codes(&frozen, "updateSemhTemplate"), ["INVALID_STATE"]);

    // A revision carries every item over; the draft drops one and adds one.
    let r = gql(
        &fx.app,
        &t.admin.token,
        &mutation(
            "reviseSemhTemplate",
            "SemhTemplateIdInput",
            &format!("template {{ {TEMPLATE} }}"),
        ),
        json!({ "i": { "id": id } }),
    )
    .await;
    let v2 = r.ok()["reviseSemhTemplate"]["template"].clone();
    assert_eq!(v2["version"], 2, "{}", r.body);
    assert_eq!(v2["revisesId"], v1["id"]);
    assert_eq!(v2["lineageId"], v1["lineageId"]);
    let v1_items = items(&v1);
    let carried: Vec<&str> = v2["sections"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["carriesOverItemId"].as_str().unwrap())
        .collect();
    assert_eq!(carried, v1_items.iter().map(String::as_str).collect::<Vec<_>>());
    let twice = gql(
        &fx.app,
        &t.admin.token,
        &mutation("reviseSemhTemplate", "SemhTemplateIdInput", "template { id }"),
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(
        codes(&twice, "reviseSemhTemplate"),
        ["INVALID_STATE"],
        "one revision at a time"
    );
    let mut revised = update(v2["id"].as_str().unwrap(), "Our own audit v2");
    revised["sections"] = json!([{ "title": "Ethos", "items": [
        { "text": "Adults greet every pupil by name", "carriesOverItemId": v1_items[0] },
        { "text": "Pupils help shape the rules" } ] }]);
    let e = gql(
        &fx.app,
        &t.admin.token,
        &mutation(
            "updateSemhTemplate",
            "UpdateSemhTemplateInput",
            &format!("template {{ {TEMPLATE} }}"),
        ),
        json!({ "i": revised }),
    )
    .await;
    let v2 = e.ok()["updateSemhTemplate"]["template"].clone();
    assert_eq!(
        v2["sections"][0]["items"][0]["lineageItemId"],
        v1["sections"][0]["items"][0]["lineageItemId"]
    );
    assert!(v2["sections"][0]["items"][1]["carriesOverItemId"].is_null());
    // Carrying over an item of another template is refused.
    let mut wrong = revised.clone();
    wrong["sections"][0]["items"][1]["carriesOverItemId"] = json!(items(eight)[0]);
    let w = gql(
        &fx.app,
        &t.admin.token,
        &mutation("updateSemhTemplate", "UpdateSemhTemplateInput", "template { id }"),
        json!({ "i": wrong }),
    )
    .await;
    assert_eq!(codes(&w, "updateSemhTemplate"), ["NOT_FOUND"], "{}", w.body);
}

#[tokio::test]
async fn a_round_takes_individual_group_and_table_responses_and_a_submitted_round_is_read_only() {
    let fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let eight = starter(app, &t.admin.token, &t.service_id, "EIGHT_PRINCIPLES").await;
    let its = items(&eight);
    let id = whole_staff_round(app, t, &eight).await;

    // A member of staff answers for themselves.
    let mine = respond(app, &t.staff_a.token, &id, None, all(&its[..4], "RED")).await;
    assert_eq!(
        mine.ok()["recordSemhResponses"]["respondent"]["kind"],
        "INDIVIDUAL",
        "{}",
        mine.body
    );
    // Answering again replaces the earlier answer to the same item.
    respond(
        app,
        &t.staff_a.token,
        &id,
        None,
        json!([{ "itemId": its[0], "rating": "AMBER" }]),
    )
    .await;
    // A group, entered by the SENCO.
    let g = gql(
        app,
        &t.senco_a.token,
        &mutation(
            "addSemhGroup",
            "AddSemhGroupInput",
            "result { respondent { id kind name } tableToken }",
        ),
        json!({ "i": { "roundId": id, "name": "Year 3 team" } }),
    )
    .await;
    let group = g.ok()["addSemhGroup"]["result"]["respondent"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(g.ok()["addSemhGroup"]["result"]["tableToken"].is_null());
    let ga = respond(app, &t.senco_a.token, &id, Some(&group), all(&its, "GREEN")).await;
    assert!(codes(&ga, "recordSemhResponses").is_empty(), "{}", ga.body);
    // Staff cannot enter a group's answers.
    let staff_group = respond(app, &t.staff_a.token, &id, Some(&group), all(&its[..1], "RED")).await;
    assert_eq!(staff_group.code(), Some("FORBIDDEN"), "{}", staff_group.body);
    // A table of the whole-staff session, through its link, without signing in.
    let tb = gql(
        app,
        &t.leader_a.token,
        &mutation(
            "addSemhGroup",
            "AddSemhGroupInput",
            "result { respondent { id kind linkExpiresAt } tableToken }",
        ),
        json!({ "i": { "roundId": id, "name": "Table 4", "asTable": true } }),
    )
    .await;
    let token = tb.ok()["addSemhGroup"]["result"]["tableToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let expires = tb.ok()["addSemhGroup"]["result"]["respondent"]["linkExpiresAt"]
        .as_str()
        .unwrap_or_default();
    assert!(
        expires.starts_with("2030-01-06T16:00:00"),
        "expires with the session: {}",
        tb.body
    );
    let table_q = "query($t: String!) { semhTable(token: $t) { tableName roundTitle schoolName template { id } responses { itemId rating } } }";
    let seen = app.post(None, table_q, json!({ "t": token })).await;
    assert_eq!(seen.ok()["semhTable"]["tableName"], "Table 4", "{}", seen.body);
    assert_eq!(seen.ok()["semhTable"]["schoolName"], t.school_a.name);
    let wrong = app.post(None, table_q, json!({ "t": format!("{token}x") })).await;
    assert!(wrong.ok()["semhTable"].is_null());
    let record_table = mutation(
        "recordSemhTableResponses",
        "RecordSemhTableResponsesInput",
        "table { responses { itemId rating } }",
    );
    let ta = app
        .post(
            None,
            &record_table,
            json!({ "i": { "token": token, "responses": all(&its[..2], "RED") } }),
        )
        .await;
    assert_eq!(
        ta.ok()["recordSemhTableResponses"]["table"]["responses"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{}",
        ta.body
    );

    // The lead sees everyone's answers side by side, and the results.
    let full = round(app, &t.leader_a.token, &id).await;
    let v = &full.ok()["semhRound"];
    assert_eq!(v["limited"], false);
    assert_eq!(v["respondents"].as_array().unwrap().len(), 3, "{}", full.body);
    assert_eq!(v["results"]["respondents"], 3);
    let first = &v["results"]["items"][0];
    assert_eq!(first["responses"], 3, "{}", first);
    let count = |item: &Value, key: &str| {
        item["counts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .unwrap()["count"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        (count(first, "RED"), count(first, "AMBER"), count(first, "GREEN")),
        (1, 1, 1)
    );
    assert!(first["spread"].as_f64().unwrap() > 0.0);
    // The items listed as diverging most are those with the widest spread, widest first.
    let spread = |id: &Value| {
        v["results"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| &i["itemId"] == id)
            .unwrap()["spread"]
            .as_f64()
            .unwrap()
    };
    let listed: Vec<Value> = v["results"]["mostDivergentItemIds"].as_array().unwrap().clone();
    assert!(
        listed.contains(&json!(its[0])) && listed.contains(&json!(its[1])),
        "{}",
        v["results"]
    );
    assert!(listed.windows(2).all(|w| spread(&w[0]) >= spread(&w[1])));
    let lowest = listed.iter().map(spread).fold(f64::MAX, f64::min);
    let unlisted_max = v["results"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !listed.contains(&i["itemId"]))
        .map(|i| i["spread"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(unlisted_max <= lowest);
    let overall_red = v["results"]["overall"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "RED")
        .unwrap()["count"]
        .clone();
    assert_eq!(
        overall_red,
        3 + 2,
        "staff's three reds after the change, and the table's two"
    );
    // The member of staff sees their own answers only.
    let limited = round(app, &t.staff_a.token, &id).await;
    let l = &limited.ok()["semhRound"];
    assert_eq!(l["limited"], true);
    assert_eq!(l["respondents"].as_array().unwrap().len(), 1);
    assert_eq!(l["respondents"][0]["mine"], true);
    assert_eq!(l["responses"].as_array().unwrap().len(), 4);
    assert!(l["results"].is_null());

    // Submission needs a consensus on every item.
    let early = submit(app, &t.leader_a.token, &id).await;
    assert_eq!(codes(&early, "submitSemhRound"), ["INVALID_STATE"], "{}", early.body);
    let bad = consensus(
        app,
        &t.leader_a.token,
        &id,
        json!([{ "itemId": its[0], "rating": "PURPLE" }]),
    )
    .await;
    assert_eq!(codes(&bad, "setSemhConsensus"), ["INVALID"]);
    let agreed: Vec<Value> = its.iter().map(|i| json!({ "itemId": i, "rating": "AMBER" })).collect();
    let c = consensus(app, &t.leader_a.token, &id, Value::Array(agreed.clone())).await;
    assert_eq!(
        c.ok()["setSemhConsensus"]["consensus"].as_array().unwrap().len(),
        its.len()
    );
    let by_staff = consensus(app, &t.staff_a.token, &id, Value::Array(agreed.clone())).await;
    assert_eq!(by_staff.code(), Some("FORBIDDEN"));
    let s = submit(app, &t.leader_a.token, &id).await;
    assert_eq!(s.ok()["submitSemhRound"]["round"]["status"], "SUBMITTED", "{}", s.body);

    // Read-only: no answers, no consensus, no groups; the table's link is gone.
    let before = app.count("semh_responses").await;
    let late = respond(app, &t.staff_a.token, &id, None, all(&its[..1], "GREEN")).await;
    assert_eq!(codes(&late, "recordSemhResponses"), ["INVALID_STATE"], "{}", late.body);
    let late_c = consensus(app, &t.leader_a.token, &id, Value::Array(agreed)).await;
    assert_eq!(codes(&late_c, "setSemhConsensus"), ["INVALID_STATE"]);
    let late_t = app
        .post(
            None,
            &record_table,
            json!({ "i": { "token": token, "responses": all(&its[..1], "GREEN") } }),
        )
        .await;
    assert!(late_t.body.get("errors").is_some() || !codes(&late_t, "recordSemhTableResponses").is_empty());
    assert!(app.post(None, table_q, json!({ "t": token })).await.ok()["semhTable"].is_null());
    assert_eq!(app.count("semh_responses").await, before);
    // Every change is in the audit log, and none carries an answer's text.
    let logged = app
        .texts("SELECT action, detail FROM audit_events WHERE action LIKE 'semh_round.%'")
        .await;
    assert!(logged.iter().any(|x| x == "semh_round.submit"), "{logged:?}");
    assert!(!logged.iter().any(|x| x.contains("seen in practice")));
}

#[tokio::test]
async fn the_action_plan_carries_over_and_rounds_compare_item_by_item_within_a_lineage() {
    let fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let eight = starter(app, &t.admin.token, &t.service_id, "EIGHT_PRINCIPLES").await;
    let its = items(&eight);
    let first = completed(app, &t.leader_a, &t.school_a.id, &eight, &["RED", "AMBER"]).await;
    let add = mutation(
        "addSemhAction",
        "AddSemhActionInput",
        "action { id status itemId priority ownerRole progress { note } }",
    );
    let a1 = gql(
        app,
        &t.senco_a.token,
        &add,
        json!({ "i": { "roundId": first, "itemId": its[0], "priority": "A wellbeing lead with time", "ownerRole": "Headteacher", "dueOn": "2030-03-01", "progressNote": "Agreed at SLT" } }),
    )
    .await;
    let kept = a1.ok()["addSemhAction"]["action"]["id"].as_str().unwrap().to_owned();
    let a2 = gql(
        app,
        &t.senco_a.token,
        &add,
        json!({ "i": { "roundId": first, "priority": "Calm spaces", "ownerName": "Ms Example" } }),
    )
    .await;
    let done = a2.ok()["addSemhAction"]["action"]["id"].as_str().unwrap().to_owned();
    let no_owner = gql(
        app,
        &t.senco_a.token,
        &add,
        json!({ "i": { "roundId": first, "priority": "Nobody's" } }),
    )
    .await;
    assert_eq!(codes(&no_owner, "addSemhAction"), ["REQUIRED"]);
    let update = mutation("updateSemhAction", "UpdateSemhActionInput", "action { id status }");
    let u = gql(
        app,
        &t.senco_a.token,
        &update,
        json!({ "i": { "id": done, "status": "DONE" } }),
    )
    .await;
    assert_eq!(u.ok()["updateSemhAction"]["action"]["status"], "DONE", "{}", u.body);
    // Staff do not see the plan at all.
    let by_staff = gql(
        app,
        &t.staff_a.token,
        &update,
        json!({ "i": { "id": kept, "status": "DONE" } }),
    )
    .await;
    assert_eq!(by_staff.code(), Some("NOT_FOUND"));
    let by_other = gql(
        app,
        &t.senco_b.token,
        &update,
        json!({ "i": { "id": kept, "status": "DONE" } }),
    )
    .await;
    assert_eq!(by_other.code(), Some("NOT_FOUND"));

    // A term later: the unfinished priority is carried into the next round.
    let second = completed(app, &t.leader_a, &t.school_a.id, &eight, &["GREEN", "AMBER"]).await;
    let r2 = round(app, &t.leader_a.token, &second).await;
    let plan = r2.ok()["semhRound"]["actions"].as_array().unwrap().clone();
    assert_eq!(plan.len(), 1, "{}", r2.body);
    assert_eq!(plan[0]["carriedFromId"], kept);
    assert_eq!(plan[0]["priority"], "A wellbeing lead with time");
    assert_eq!(plan[0]["itemId"], its[0]);
    assert_eq!(plan[0]["progress"][0]["note"], "Agreed at SLT");
    let r1 = round(app, &t.leader_a.token, &first).await;
    let old: Vec<&str> = r1.ok()["semhRound"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(old, ["CARRIED_FORWARD", "DONE"]);
    let stale = gql(
        app,
        &t.senco_a.token,
        &update,
        json!({ "i": { "id": kept, "status": "DONE" } }),
    )
    .await;
    assert_eq!(codes(&stale, "updateSemhAction"), ["INVALID_STATE"]);

    // Item by item: even items went from red to green, odd ones stayed amber.
    let cmp = gql(
        app,
        &t.leader_a.token,
        "query($a: ID!, $b: ID!) { semhComparison(fromRoundId: $a, toRoundId: $b) { items { fromItemId toItemId from to change } dropped added } }",
        json!({ "a": first, "b": second }),
    )
    .await;
    let changes = cmp.ok()["semhComparison"]["items"].as_array().unwrap().clone();
    assert_eq!(changes.len(), its.len(), "{}", cmp.body);
    assert_eq!(changes[0]["change"], "IMPROVED");
    assert_eq!(changes[0]["from"], "RED");
    assert_eq!(changes[1]["change"], "SAME");
    let trend = gql(
        app,
        &t.ep.token,
        "query($s: ID!, $t: ID!) { semhTrend(schoolId: $s, templateId: $t) { round { id } overall { red amber green unknown } } }",
        json!({ "s": t.school_a.id, "t": eight["id"] }),
    )
    .await;
    let points = trend.ok()["semhTrend"].as_array().unwrap().clone();
    assert_eq!(points.len(), 2, "{}", trend.body);
    assert_eq!(points[0]["overall"]["red"], 12);
    assert_eq!(points[1]["overall"]["green"], 12);

    // Across lineages: refused.
    let five = starter(app, &t.admin.token, &t.service_id, "FIVE_STEPS").await;
    let other = completed(app, &t.leader_a, &t.school_a.id, &five, &["GREEN"]).await;
    let across = gql(
        app,
        &t.leader_a.token,
        "query($a: ID!, $b: ID!) { semhComparison(fromRoundId: $a, toRoundId: $b) { dropped } }",
        json!({ "a": first, "b": other }),
    )
    .await;
    assert_eq!(across.code(), Some("BAD_USER_INPUT"), "{}", across.body);
}

#[tokio::test]
async fn bad_inputs_are_answered_with_user_errors_and_nothing_is_written() {
    let fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let eight = starter(app, &t.admin.token, &t.service_id, "EIGHT_PRINCIPLES").await;
    let five = starter(app, &t.admin.token, &t.service_id, "FIVE_STEPS").await;
    let its = items(&eight);
    let r = opened(
        &open_round(
            app,
            &t.senco_a.token,
            &t.school_a.id,
            eight["id"].as_str().unwrap(),
            json!({}),
        )
        .await,
    );
    let id = r["id"].as_str().unwrap().to_owned();
    let cases = [
        json!([{ "itemId": its[0], "rating": "PURPLE" }]),
        json!([{ "itemId": items(&five)[0], "rating": "RED" }]),
        json!([{ "itemId": its[0], "rating": "RED" }, { "itemId": its[0], "rating": "GREEN" }]),
        json!([{ "itemId": its[0], "rating": "RED", "ideas": "not asked for" }]),
        json!([{ "itemId": its[0], "rating": "RED", "evidence": "x".repeat(501) }]),
        json!([]),
    ];
    for answers in cases {
        let a = respond(app, &t.staff_a.token, &id, None, answers.clone()).await;
        assert_eq!(codes(&a, "recordSemhResponses").len(), 1, "{answers}: {}", a.body);
    }
    assert_eq!(app.count("semh_responses").await, 0);
    assert_eq!(app.count("semh_respondents").await, 0);
    let bad_open = [
        json!({ "title": " " }),
        json!({ "session": { "startsAt": "2030-01-06T16:00:00Z", "endsAt": "2030-01-06T13:00:00Z" } }),
    ];
    for extra in bad_open {
        let a = open_round(
            app,
            &t.senco_a.token,
            &t.school_a.id,
            eight["id"].as_str().unwrap(),
            extra.clone(),
        )
        .await;
        assert_eq!(codes(&a, "openSemhRound").len(), 1, "{extra}: {}", a.body);
    }
    // A table without a whole-staff session.
    let tb = gql(
        app,
        &t.senco_a.token,
        &mutation("addSemhGroup", "AddSemhGroupInput", "result { tableToken }"),
        json!({ "i": { "roundId": id, "name": "Table 1", "asTable": true } }),
    )
    .await;
    assert_eq!(codes(&tb, "addSemhGroup"), ["INVALID_STATE"]);
    let bad_scale = gql(
        app,
        &t.admin.token,
        &mutation("createSemhTemplate", "CreateSemhTemplateInput", "template { id }"),
        json!({ "i": { "serviceId": t.service_id, "name": "Bad", "scale": [
            { "key": "a b", "label": "x", "colour": "red", "band": "RED" } ],
            "sections": [] } }),
    )
    .await;
    assert!(codes(&bad_scale, "createSemhTemplate").len() >= 3, "{}", bad_scale.body);
    assert_eq!(app.count("semh_rounds").await, 1);
    assert_eq!(app.count("semh_templates").await, 3);
}

#[tokio::test]
async fn each_role_sees_what_the_table_says_and_another_school_or_service_sees_nothing() {
    let fx: Fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let eight = starter(app, &t.admin.token, &t.service_id, "EIGHT_PRINCIPLES").await;
    let id = completed(app, &t.leader_a, &t.school_a.id, &eight, &["AMBER"]).await;
    let other = app.tenant().await;
    let (partner, _, _) = app
        .partner(t, &["AUDITS_READ", "SCHOOLS_READ", "BOOKINGS_READ"], None)
        .await;
    let cases: [(&str, &Account, Role, Relation); 9] = [
        ("admin", &t.admin, Role::ServiceAdmin, Relation::OwnSchool),
        ("link EP", &t.ep, Role::Psychologist, Relation::LinkedSchool),
        ("another EP", &t.other_ep, Role::Psychologist, Relation::OtherSchool),
        ("leader", &t.leader_a, Role::SchoolLeader, Relation::OwnSchool),
        ("SENCO", &t.senco_a, Role::Senco, Relation::OwnSchool),
        ("staff", &t.staff_a, Role::SchoolStaff, Relation::OwnSchool),
        ("other school's SENCO", &t.senco_b, Role::Senco, Relation::OtherSchool),
        (
            "another service",
            &other.admin,
            Role::ServiceAdmin,
            Relation::OtherService,
        ),
        ("partner", &partner, Role::PartnerClient, Relation::OwnSchool),
    ];
    for (who, account, role, relation) in cases {
        let scopes = [domain::access::PartnerScope::AuditsRead];
        let full = table_allows(role, &scopes, Action::ViewSemhRounds, relation);
        let own = table_allows(role, &scopes, Action::RespondToSemhAudits, relation);
        let a = round(app, &account.token, &id).await;
        let list = gql(
            app,
            &account.token,
            "query($s: ID!) { semhRounds(schoolId: $s) { id limited } }",
            json!({ "s": t.school_a.id }),
        )
        .await;
        if full || own {
            let v = &a.ok()["semhRound"];
            assert_eq!(v["limited"], !full, "{who}: {}", a.body);
            assert_eq!(v["results"].is_null(), !full, "{who}");
            assert_eq!(list.ok()["semhRounds"].as_array().unwrap().len(), 1, "{who}");
        } else {
            assert_eq!(a.code(), Some("NOT_FOUND"), "{who}: {}", a.body);
            assert!(
                matches!(list.code(), Some("NOT_FOUND") | Some("FORBIDDEN")),
                "{who}: {}",
                list.body
            );
            // Exactly as for an id that does not exist.
            let missing_id = scps::graphql::ids::encode("SemhRound", uuid::Uuid::now_v7());
            let missing = round(app, &account.token, &missing_id).await;
            assert_eq!(missing.code(), Some("NOT_FOUND"), "{who}");
        }
    }
    // Writes: whoever cannot see the round cannot tell it from one that does not exist, and
    // whoever can see it but not act on it is refused.
    let submit_q = mutation("submitSemhRound", "SubmitSemhRoundInput", "round { id }");
    let action_q = mutation("addSemhAction", "AddSemhActionInput", "action { id }");
    let missing = random("SemhRound");
    for (who, account, role, relation) in cases {
        let scopes = [domain::access::PartnerScope::AuditsRead];
        let sees = [Action::ViewSemhRounds, Action::RespondToSemhAudits]
            .into_iter()
            .any(|a| table_allows(role, &scopes, a, relation));
        for (q, action, input) in [
            (&submit_q, Action::RunSemhAudits, json!({ "id": id })),
            (
                &action_q,
                Action::ManageSemhActions,
                json!({ "roundId": id, "priority": "Calmer corridors", "ownerRole": "SENCO" }),
            ),
        ] {
            if !sees {
                let mut absent = input.clone();
                absent[if q == &submit_q { "id" } else { "roundId" }] = json!(missing);
                same_as_missing(
                    app,
                    &account.token,
                    q,
                    json!({ "i": input }),
                    json!({ "i": absent }),
                    Some("NOT_FOUND"),
                )
                .await;
            } else if !table_allows(role, &scopes, action, relation) {
                let a = gql(app, &account.token, q, json!({ "i": input })).await;
                assert_eq!(a.code(), Some("FORBIDDEN"), "{who}: {}", a.body);
            }
        }
    }
}

#[tokio::test]
async fn the_service_picture_shows_groups_of_five_or_more_and_names_schools_only_when_allowed() {
    let fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let eight = starter(app, &t.admin.token, &t.service_id, "EIGHT_PRINCIPLES").await;
    // Five primary schools and one secondary, each with a submitted round.
    let mut schools = vec![t.school_a.clone(), t.school_b.clone()];
    for i in 0..4 {
        schools.push(
            app.create_school(
                &t.admin.token,
                &t.service_id,
                &format!("Picture school {i}"),
                &format!("9{i:05}"),
            )
            .await,
        );
    }
    let secondary = schools[5].id.clone();
    let s = gql(
        app,
        &t.admin.token,
        "mutation($i: UpdateSchoolInput!) { updateSchool(input: $i) { school { phase } userErrors { message } } }",
        json!({ "i": { "id": secondary, "phase": "SECONDARY" } }),
    )
    .await;
    assert_eq!(s.ok()["updateSchool"]["school"]["phase"], "SECONDARY", "{}", s.body);
    for (i, school) in schools.iter().enumerate() {
        let lead = app
            .invite(
                &t.admin.token,
                &t.service_id,
                &format!("lead-{i}-{}@test.invalid", t.tag),
                "SCHOOL_LEADER",
                Some(&school.id),
            )
            .await;
        completed(app, &lead, &school.id, &eight, &[if i == 0 { "RED" } else { "GREEN" }]).await;
    }
    let q = "query($t: ID!) { semhServicePicture(templateId: $t) { namesSchools groups { phase shown schools respondents schoolNames items { itemId bands { red amber green unknown } } } } }";
    let pic = gql(app, &t.admin.token, q, json!({ "t": eight["id"] })).await;
    let groups = pic.ok()["semhServicePicture"]["groups"].as_array().unwrap().clone();
    let group = |phase: Value| groups.iter().find(|g| g["phase"] == phase).cloned().unwrap();
    let everyone = group(Value::Null);
    assert_eq!(everyone["shown"], true, "{}", pic.body);
    assert_eq!(everyone["schools"], 6);
    assert_eq!(everyone["items"][0]["bands"]["red"], 1);
    assert_eq!(everyone["items"][0]["bands"]["green"], 5);
    assert_eq!(group(json!("PRIMARY"))["schools"], 5);
    let small = group(json!("SECONDARY"));
    assert_eq!(small["shown"], false, "one school is too few");
    assert!(small["schools"].is_null() && small["respondents"].is_null());
    assert!(small["items"].as_array().unwrap().is_empty());
    assert!(
        everyone["schoolNames"].as_array().unwrap().is_empty(),
        "not named by default"
    );

    let set = gql(
        app,
        &t.admin.token,
        &mutation("setSemhNamesSchools", "SetSemhNamesSchoolsInput", "namesSchools"),
        json!({ "i": { "serviceId": t.service_id, "namesSchools": true } }),
    )
    .await;
    assert_eq!(set.ok()["setSemhNamesSchools"]["namesSchools"], true, "{}", set.body);
    let named = gql(app, &t.ep.token, q, json!({ "t": eight["id"] })).await;
    let names = named.ok()["semhServicePicture"]["groups"][0]["schoolNames"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(names, 6, "{}", named.body);
    // A partner with the scope sees the figures, never names; without it, nothing.
    let (partner, _, _) = app.partner(t, &["AUDITS_READ"], None).await;
    let p = gql(app, &partner.token, q, json!({ "t": eight["id"] })).await;
    assert_eq!(p.ok()["semhServicePicture"]["groups"][0]["schools"], 6, "{}", p.body);
    assert!(
        p.ok()["semhServicePicture"]["groups"][0]["schoolNames"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (plain, _, _) = app.partner(t, &["SCHOOLS_READ"], None).await;
    assert_eq!(
        gql(app, &plain.token, q, json!({ "t": eight["id"] })).await.code(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        gql(app, &t.senco_a.token, q, json!({ "t": eight["id"] })).await.code(),
        Some("FORBIDDEN")
    );
    let other = app.tenant().await;
    assert_eq!(
        gql(app, &other.admin.token, q, json!({ "t": eight["id"] }))
            .await
            .code(),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn a_round_exports_as_csv_for_the_governors_under_the_same_reach() {
    let fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let eight = starter(app, &t.admin.token, &t.service_id, "EIGHT_PRINCIPLES").await;
    let id = completed(app, &t.leader_a, &t.school_a.id, &eight, &["RED", "GREEN"]).await;
    let get = |token: Option<&str>| {
        let mut r = app
            .client
            .get(app.url(&format!("/exports/semh-round.csv?roundId={id}")));
        if let Some(tok) = token {
            r = r.bearer_auth(tok.to_owned());
        }
        async move { r.send().await.unwrap() }
    };
    let r = get(Some(&t.senco_a.token)).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = r.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], scps::http::exports::SEMH_ROUND_COLUMNS.join(","));
    assert_eq!(lines.len(), 1 + items(&eight).len(), "{body}");
    assert!(lines[1].starts_with("Leadership and management,1,"), "{}", lines[1]);
    assert!(lines[1].contains(",RED,Not in place yet,RED,,1,1,0,0,"), "{}", lines[1]);
    assert!(lines[2].contains(",GREEN,Well established,GREEN,"), "{}", lines[2]);
    assert_eq!(get(None).await.status(), 401);
    assert_eq!(get(Some(&t.senco_b.token)).await.status(), 404);
    assert_eq!(
        get(Some(&t.staff_a.token)).await.status(),
        403,
        "staff see their own answers only"
    );
}

#[tokio::test]
async fn a_tables_facilitator_answers_on_a_plain_page_through_the_tables_link() {
    let fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let resilience = starter(app, &t.admin.token, &t.service_id, "RESILIENCE").await;
    let its = items(&resilience);
    let round_id = whole_staff_round(app, t, &resilience).await;
    let token = add_table(app, &t.leader_a, &round_id, "Table 2").await;
    let path = format!("/semh/tables/{token}");
    let page = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.headers()["x-sql-statements"]
            .to_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            > 0
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Table 2") && html.contains(&t.school_a.name), "{html}");
    assert!(html.contains("Pupils arrive to a safe, warm, fed start to the day."));
    assert!(html.contains("We already do this well") && html.contains("Ideas (optional)"));
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let post = |body: String| {
        let r = app
            .client
            .post(app.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        async move { r.send().await.unwrap() }
    };
    // Nothing chosen: the page says so, and nothing is written.
    let none = post(format!("csrf={csrf}")).await;
    assert_eq!(none.status(), 422);
    assert!(none.text().await.unwrap().contains("at least one statement"));
    // Without the form's token: the same page as a link that does not work.
    assert_eq!(post("r-0=DOING_WELL".to_owned()).await.status(), 404);
    let bad = post(format!("csrf={csrf}&r-0=PURPLE")).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("Statement 1"));
    assert_eq!(app.count("semh_responses").await, 0);
    let saved = post(format!(
        "csrf={csrf}&r-0=DOING_WELL&e-0=Breakfast+club+every+day&x-0=Open+it+to+siblings&r-2=NEEDS_IMPROVING"
    ))
    .await;
    // Saved, and sent on to the page again (the client follows the redirect).
    assert_eq!(saved.status(), 200);
    assert_eq!(saved.url().query(), Some("saved=1"));
    let table_q = "query($t: String!) { semhTable(token: $t) { responses { itemId rating evidence ideas } } }";
    let seen = app.post(None, table_q, json!({ "t": token })).await;
    let answers = seen.ok()["semhTable"]["responses"].as_array().unwrap().clone();
    assert_eq!(answers.len(), 2, "{}", seen.body);
    let first = answers.iter().find(|a| a["itemId"] == its[0]).unwrap();
    assert_eq!(first["rating"], "DOING_WELL");
    assert_eq!(first["evidence"], "Breakfast club every day");
    assert_eq!(first["ideas"], "Open it to siblings");
    // The page shows what was saved.
    let again = app
        .client
        .get(app.url(&format!("{path}?saved=1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("Saved") && again.contains("Breakfast club every day"));
    // A wrong link, and the link after the round is submitted: "this link does not work".
    assert_eq!(
        app.client
            .get(app.url(&format!("{path}x")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let agreed: Vec<Value> = its
        .iter()
        .map(|i| json!({ "itemId": i, "rating": "COULD_IMPROVE" }))
        .collect();
    consensus(app, &t.leader_a.token, &round_id, Value::Array(agreed)).await;
    assert_eq!(
        submit(app, &t.leader_a.token, &round_id).await.ok()["submitSemhRound"]["round"]["status"],
        "SUBMITTED"
    );
    assert_eq!(app.client.get(app.url(&path)).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_facilitator_uses_the_table_page_in_a_real_browser_with_no_accessibility_violations() {
    if !scps_tests::browser::enabled() {
        return;
    }
    let fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let resilience = starter(app, &t.admin.token, &t.service_id, "RESILIENCE").await;
    let round = whole_staff_round(app, t, &resilience).await;
    let path = format!("/semh/tables/{}", add_table(app, &t.leader_a, &round, "Table 5").await);
    scps_tests::browser::run("semh_table.mjs", app.address.clone(), path).await;
}

#[tokio::test]
async fn a_round_is_supported_by_the_link_eps_booked_time_at_the_school() {
    let fx = fixture().await;
    let (app, t) = (&fx.app, &fx.t);
    let eight = starter(app, &t.admin.token, &t.service_id, "EIGHT_PRINCIPLES").await;
    let book = |school: &str| {
        let start = scps_tests::clock::london(fx.week(1) + chrono::Duration::days(1), 10, 0);
        let input = json!({ "schoolId": school, "epId": t.ep.person_id, "kind": "AUDIT_SUPPORT", "mode": "ONLINE",
            "startsAt": scps_tests::clock::rfc(start), "endsAt": scps_tests::clock::rfc(start + chrono::Duration::minutes(90)) });
        async move {
            let a = gql(
                app,
                &t.admin.token,
                "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id } } userErrors { field code message } } }",
                json!({ "i": input }),
            )
            .await;
            a.ok()["createBooking"]["result"]["booking"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("a booking: {}", a.body))
                .to_owned()
        }
    };
    let at_a = book(&t.school_a.id).await;
    let r = opened(
        &open_round(
            app,
            &t.leader_a.token,
            &t.school_a.id,
            eight["id"].as_str().unwrap(),
            json!({ "supportBookingId": at_a }),
        )
        .await,
    );
    let seen = gql(
        app,
        &t.ep.token,
        "query($id: ID!) { semhRound(id: $id) { supportBookingId limited } }",
        json!({ "id": r["id"] }),
    )
    .await;
    assert_eq!(seen.ok()["semhRound"]["supportBookingId"], at_a, "{}", seen.body);
    assert_eq!(seen.ok()["semhRound"]["limited"], false);
    // Another school's booking, or one that does not exist, supports nothing, and nothing is written.
    let other_booking = {
        let start = scps_tests::clock::london(fx.week(1) + chrono::Duration::days(2), 10, 0);
        let a = gql(
            app,
            &t.admin.token,
            "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id } } userErrors { message } } }",
            json!({ "i": { "schoolId": t.school_b.id, "epId": t.ep.person_id, "kind": "AUDIT_SUPPORT", "mode": "ONLINE",
                "startsAt": scps_tests::clock::rfc(start), "endsAt": scps_tests::clock::rfc(start + chrono::Duration::minutes(60)) } }),
        )
        .await;
        a.ok()["createBooking"]["result"]["booking"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let missing = scps::graphql::ids::encode("Booking", uuid::Uuid::now_v7()).0;
    for bad in [other_booking, missing] {
        let a = open_round(
            app,
            &t.leader_a.token,
            &t.school_a.id,
            eight["id"].as_str().unwrap(),
            json!({ "supportBookingId": bad }),
        )
        .await;
        assert_eq!(codes(&a, "openSemhRound"), ["NOT_FOUND"], "{}", a.body);
    }
    assert_eq!(app.count("semh_rounds").await, 1);
}
