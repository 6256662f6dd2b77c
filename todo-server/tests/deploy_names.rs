//! The deployment (helm/todo-advanced, dapr/, scripts/setup-minikube.sh) names what the code
//! reads: the app id, the topics and their dead-letter topics, the Dapr component names, the
//! secret and its keys, and every environment variable the chart gives the server. No cluster is
//! needed: the chart's values and the Dapr YAML are read from the repository;
//! scripts/helm-check.sh renders the chart and validates it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;
use serde_yaml::Value;
use todo_events::Topic;
use todo_server::config::{Config, DaprSettings};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn values() -> Value {
    serde_yaml::from_str(&read("helm/todo-advanced/values.yaml")).unwrap()
}

/// `a.b.c` in a YAML value.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(v, |v, k| v.get(k).unwrap_or_else(|| panic!("no {path}")))
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    at(v, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

/// Every resource in dapr/, by kind and name.
fn dapr_dir() -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root().join("dapr")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc).unwrap();
            if v.is_null() {
                continue;
            }
            let key = (s(&v, "kind").to_owned(), s(&v, "metadata.name").to_owned());
            assert!(
                out.insert(key.clone(), v).is_none(),
                "{key:?} twice in dapr/"
            );
        }
    }
    out
}

/// The component's metadata item `name` (its `value`).
fn meta<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    at(component, "spec.metadata")
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|m| m.get("value"))
        .and_then(Value::as_str)
}

fn component<'a>(dapr: &'a BTreeMap<(String, String), Value>, name: &str) -> &'a Value {
    dapr.get(&("Component".to_owned(), name.to_owned()))
        .unwrap_or_else(|| panic!("dapr/ has no component {name}"))
}

fn scoped_to(v: &Value, app_id: &str) -> bool {
    v.get("scopes")
        .and_then(Value::as_sequence)
        .is_some_and(|s| s.iter().any(|x| x.as_str() == Some(app_id)))
}

/// The server's Dapr defaults, as it computes them with only the sidecar's port set.
fn dapr_defaults() -> DaprSettings {
    DaprSettings::from_vars(|k| (k == "DAPR_GRPC_PORT").then(|| "50001".to_owned()))
        .unwrap()
        .unwrap()
}

#[test]
fn app_id_and_dapr_components_are_the_ones_the_server_uses() {
    let values = values();
    let dapr = dapr_dir();
    let defaults = dapr_defaults();
    let app_id = s(&values, "dapr.appId");
    assert_eq!(app_id, "todo-server");
    assert_eq!(
        app_id,
        dapr_standin::StandInOptions::default().app_id,
        "the app id the tests' stand-in sidecar serves"
    );

    // The component names in values.yaml are the server's defaults (DAPR_* are set from them
    // too) and each is in dapr/ with the type the server needs.
    assert_eq!(s(&values, "dapr.components.pubsub"), defaults.pubsub);
    assert_eq!(
        s(&values, "dapr.components.stateStore"),
        defaults.state_store
    );
    assert_eq!(s(&values, "secrets.name"), defaults.secret_name);
    let pubsub = component(&dapr, &defaults.pubsub);
    assert_eq!(s(pubsub, "spec.type"), "pubsub.kafka");
    assert_eq!(
        meta(pubsub, "consumerID"),
        Some(app_id),
        "the replicas share one consumer group"
    );
    let fanout = component(&dapr, s(&values, "dapr.components.fanoutPubsub"));
    assert_eq!(s(fanout, "spec.type"), "pubsub.kafka");
    assert_eq!(
        meta(fanout, "consumerID"),
        Some("{podName}"),
        "the fan-out needs a consumer group per pod"
    );
    assert_ne!(s(&values, "dapr.components.fanoutPubsub"), defaults.pubsub);
    let state = component(&dapr, &defaults.state_store);
    assert_eq!(s(state, "spec.type"), "state.postgresql");
    let secret_store = component(&dapr, s(&values, "dapr.components.secretStore"));
    assert_eq!(s(secret_store, "spec.type"), "secretstores.kubernetes");
    for c in [pubsub, fanout, state, secret_store] {
        assert!(
            scoped_to(c, app_id),
            "{} not scoped to {app_id}",
            s(c, "metadata.name")
        );
    }

    // The state store's connection string is the server's own DATABASE_URL secret key.
    let conn = at(state, "spec.metadata")
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m.get("name").and_then(Value::as_str) == Some("connectionString"))
        .unwrap();
    assert_eq!(s(conn, "secretKeyRef.name"), defaults.secret_name);
    assert!(todo_server::dapr::SECRET_KEYS.contains(&s(conn, "secretKeyRef.key")));

    // The Configuration the sidecar uses lets the app read its one secret only, and samples
    // 10% of the traces.
    let config = dapr
        .get(&(
            "Configuration".to_owned(),
            s(&values, "dapr.config").to_owned(),
        ))
        .expect("the Configuration of dapr.config in dapr/");
    assert_eq!(s(config, "spec.tracing.samplingRate"), "0.1");
    let scopes = at(config, "spec.secrets.scopes").as_sequence().unwrap();
    let ours = scopes
        .iter()
        .find(|x| s(x, "storeName") == s(&values, "dapr.components.secretStore"))
        .unwrap();
    assert_eq!(s(ours, "defaultAccess"), "deny");
    let allowed: Vec<&str> = at(ours, "allowedSecrets")
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed, [defaults.secret_name.as_str()]);

    // Resiliency: targets the app id and the components above, with policies that exist.
    let (_, res) = dapr
        .iter()
        .find(|((kind, _), _)| kind == "Resiliency")
        .expect("a Resiliency in dapr/");
    assert!(at(res, "spec.targets.apps").get(app_id).is_some());
    let targets = at(res, "spec.targets.components").as_mapping().unwrap();
    for name in [
        defaults.pubsub.as_str(),
        s(&values, "dapr.components.fanoutPubsub"),
        defaults.state_store.as_str(),
    ] {
        assert!(
            targets.get(name).is_some(),
            "resiliency has no target {name}"
        );
    }
    let names: BTreeSet<String> = dapr
        .keys()
        .filter(|(k, _)| k == "Component")
        .map(|(_, n)| n.clone())
        .collect();
    for name in targets.keys() {
        assert!(
            names.contains(name.as_str().unwrap()),
            "resiliency targets unknown component {name:?}"
        );
    }
}

#[test]
fn topics_are_the_codes_with_their_dead_letter_topics_and_the_plans_retention() {
    let values = values();
    let list = at(&values, "kafka.topics.list").as_sequence().unwrap();
    let chart: BTreeMap<&str, i64> = list
        .iter()
        .map(|t| (s(t, "name"), at(t, "retentionMs").as_i64().unwrap()))
        .collect();
    let code: BTreeSet<&str> = Topic::ALL
        .iter()
        .flat_map(|t| [t.name(), t.dlq_name()])
        .collect();
    assert_eq!(chart.keys().copied().collect::<BTreeSet<_>>(), code);
    for t in Topic::ALL {
        assert_eq!(
            t.dlq_name(),
            format!("{}{}", t.name(), todo_events::topic::DLQ_SUFFIX)
        );
    }
    const H: i64 = 3_600_000;
    // The plan's "Kafka Retention".
    assert_eq!(chart[Topic::TaskEvents.name()], 7 * 24 * H);
    assert_eq!(chart[Topic::Reminders.name()], 24 * H);
    assert_eq!(chart[Topic::TaskUpdates.name()], H);
    assert_eq!(chart[Topic::ActivityLogs.name()], 30 * 24 * H);
    // Dead letters are kept at least 7 days, and never shorter than their topic.
    for t in Topic::ALL {
        let dlq = chart[t.dlq_name()];
        assert!(
            dlq >= 7 * 24 * H && dlq >= chart[t.name()],
            "{}",
            t.dlq_name()
        );
    }
    assert_eq!(at(&values, "kafka.topics.partitions").as_i64(), Some(3));
    // The Dapr components subscribe to the plain names: no prefix by default.
    assert_eq!(s(&values, "kafka.topics.prefix"), "");
}

/// The server's environment in the chart: the keys of the ConfigMap template, each with the
/// value the default values give it.
fn chart_env(values: &Value) -> BTreeMap<String, String> {
    let template = read("helm/todo-advanced/templates/server/configmap.yaml");
    let keys: BTreeSet<String> = template
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (k, rest) = l.split_once(": ")?;
            (rest.starts_with("{{")
                && !k.is_empty()
                && k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .then(|| k.to_owned())
        })
        .collect();
    let v = |p: &str| match at(values, p) {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("{p}: {other:?}"),
    };
    let expected: BTreeMap<String, String> = [
        ("TODO_ADDR", format!("0.0.0.0:{}", v("server.port"))),
        ("RUST_LOG", v("server.logLevel")),
        ("TODO_BODY_LIMIT", v("server.bodyLimit")),
        ("TODO_RATE_LIMIT_PER_MIN", v("server.rateLimitPerMin")),
        ("TODO_FEATURE_RECURRING", v("featureFlags.recurring")),
        ("TODO_FEATURE_REMINDERS", v("featureFlags.reminders")),
        ("TODO_FEATURE_REALTIME", v("featureFlags.realtime")),
        ("DAPR_PUBSUB_NAME", v("dapr.components.pubsub")),
        ("DAPR_FANOUT_PUBSUB_NAME", v("dapr.components.fanoutPubsub")),
        ("DAPR_STATE_STORE", v("dapr.components.stateStore")),
        ("DAPR_SECRET_STORE", v("dapr.components.secretStore")),
        ("DAPR_SECRET_NAME", v("secrets.name")),
        ("DAPR_WAIT_SECS", v("dapr.waitSecs")),
        // Only with events.transport=kafka.
        ("KAFKA_BROKERS", "todo-kafka:9092".to_owned()),
        ("KAFKA_TOPIC_PREFIX", v("kafka.topics.prefix")),
        ("KAFKA_PARTITIONS", v("kafka.topics.partitions")),
        ("KAFKA_REPLICATION", "1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(
        keys,
        expected.keys().cloned().collect::<BTreeSet<_>>(),
        "the ConfigMap template's variables (update this test with the chart)"
    );
    expected
}

#[test]
fn every_variable_the_chart_sets_is_read_by_the_server_and_accepted() {
    let values = values();
    let env = chart_env(&values);
    // What the pod has besides: the sidecar injector's port, the secrets from the store.
    let mut all = env.clone();
    all.insert("DAPR_GRPC_PORT".into(), "50001".into());
    all.insert("DATABASE_URL".into(), "postgres://todo@db/todo".into());
    all.insert("TODO_JWT_SECRET".into(), "s".repeat(32));
    // The chart's generated app token (a Secret, not the ConfigMap): without it the server
    // refuses to start with Dapr.
    all.insert("APP_API_TOKEN".into(), "t".repeat(48));
    let asked = Mutex::new(BTreeSet::new());
    let config = Config::from_vars(|k| {
        asked.lock().unwrap().insert(k.to_owned());
        all.get(k).cloned()
    })
    .expect("the chart's defaults are a valid configuration");
    let asked = asked.into_inner().unwrap();
    for var in env.keys() {
        if var == "RUST_LOG" {
            continue; // the tracing subscriber's filter (main.rs), not Config
        }
        assert!(
            asked.contains(var),
            "the chart sets {var}; the server never reads it"
        );
    }
    assert_eq!(
        config.addr.port().to_string(),
        at(&values, "server.port").as_i64().unwrap().to_string()
    );
    let dapr = config.dapr.expect("Dapr on with the sidecar's port");
    assert_eq!(dapr.secret_store.as_deref(), Some("kubernetes-secrets"));
    assert_eq!(dapr.fanout_pubsub, "kafka-pubsub-fanout");
    assert!(config.kafka.is_some(), "the Kafka variables are accepted");
    // RUST_LOG is read by the server's tracing setup.
    assert!(read("todo-server/src/main.rs").contains("EnvFilter"));
}

#[test]
fn the_secret_the_setup_creates_has_the_keys_the_server_reads() {
    let setup = read("scripts/setup-minikube.sh");
    let secret = dapr_defaults().secret_name;
    assert!(setup.contains(&format!("create secret generic {secret}")));
    for key in todo_server::dapr::SECRET_KEYS {
        assert!(
            setup.contains(&format!("--from-literal={key}=")),
            "setup-minikube.sh does not put {key} into {secret}"
        );
    }
    // The chart holds no secret of the operator's: its one Secret template is the Dapr tokens'
    // (a random token, or the operator's own token value), never `secrets.name`.
    for dir in ["server", "kafka", "postgresql", "dapr"] {
        for entry in
            std::fs::read_dir(root().join("helm/todo-advanced/templates").join(dir)).unwrap()
        {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            if path.ends_with("server/dapr-tokens.yaml") {
                assert!(text.contains("kind: Secret") && text.contains("include \"todo.token\""));
                assert!(
                    !text.contains(".Values.secrets"),
                    "the tokens' Secret holds a secret of the app"
                );
            } else {
                assert!(
                    !text.contains("kind: Secret"),
                    "a Secret in {}",
                    path.display()
                );
            }
        }
    }
}

/// The Dapr tokens (docs/deploy.md, "Trust between the sidecar and the app"): the Deployment
/// gives the server `APP_API_TOKEN` and `DAPR_API_TOKEN` from the Secrets the sidecar's
/// annotations name, so the sidecar and the app always hold the same tokens; the server reads
/// both (and refuses to start with Dapr without the first).
#[test]
fn the_chart_gives_the_server_and_its_sidecar_the_same_tokens() {
    let deployment = read("helm/todo-advanced/templates/server/deployment.yaml");
    let helpers = read("helm/todo-advanced/templates/_helpers.tpl");
    for (var, annotation, helper) in [
        (
            "APP_API_TOKEN",
            "dapr.io/app-token-secret",
            "todo.server.appTokenSecret",
        ),
        (
            "DAPR_API_TOKEN",
            "dapr.io/api-token-secret",
            "todo.server.apiTokenSecret",
        ),
    ] {
        let include = format!("{{{{ include \"{helper}\" . | quote }}}}");
        assert!(
            deployment.contains(&format!("{annotation}: {include}")),
            "{annotation} is not the Secret of {helper}"
        );
        let env = format!(
            "- name: {var}\n              valueFrom:\n                secretKeyRef:\n                  name: {include}\n                  key: token"
        );
        assert!(
            deployment.contains(&env),
            "{var} is not from {helper}'s key `token`"
        );
        assert!(helpers.contains(&format!("define \"{helper}\"")));
        assert!(
            read("todo-server/src/config.rs").contains(&format!("\"{var}\"")),
            "the server does not read {var}"
        );
    }
    // The Configuration the sidecar uses denies service invocation by default.
    let dapr = dapr_dir();
    let config = dapr
        .get(&(
            "Configuration".to_owned(),
            s(&values(), "dapr.config").to_owned(),
        ))
        .unwrap();
    assert_eq!(s(config, "spec.accessControl.defaultAction"), "deny");
}
