//! What a document costs, worked out once per request from the parsed document, before it runs
//! (no extension on the per-field path).
//!
//! Every field costs 1, `__typename` and aliased fields included. A field that returns many
//! things costs its children times how many it is expected to return: a connection its page
//! size (`first`/`last`, or the default page), `nodes(ids:)` the ids given, an introspection
//! list what the schema really has (`__schema { types }` costs as many as there are types),
//! any other list [`DEFAULT_LIST`]. Fragments are priced once each, so a document cannot make the
//! analysis itself slow.

use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
    Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Value, Variables};

/// The expected size of a list that says nothing of its size.
pub const DEFAULT_LIST: usize = 10;

/// The introspection types, as the GraphQL specification defines them (only their lists
/// matter here).
const INTROSPECTION_SDL: &str = r#"
type __Schema { description: String types: [__Type!]! queryType: __Type! mutationType: __Type subscriptionType: __Type directives: [__Directive!]! }
type __Type { kind: __TypeKind! name: String description: String specifiedByURL: String fields(includeDeprecated: Boolean): [__Field!] interfaces: [__Type!] possibleTypes: [__Type!] enumValues(includeDeprecated: Boolean): [__EnumValue!] inputFields(includeDeprecated: Boolean): [__InputValue!] ofType: __Type isOneOf: Boolean }
type __Field { name: String! description: String args(includeDeprecated: Boolean): [__InputValue!]! type: __Type! isDeprecated: Boolean! deprecationReason: String }
type __InputValue { name: String! description: String type: __Type! defaultValue: String isDeprecated: Boolean! deprecationReason: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
type __Directive { name: String! description: String locations: [__DirectiveLocation!]! args(includeDeprecated: Boolean): [__InputValue!]! isRepeatable: Boolean! }
"#;

#[derive(Clone, Debug)]
struct FieldInfo {
    /// The named type at the bottom of the field's type.
    ty: String,
    list: bool,
    paged: bool,
    /// How many a list is known to hold (the introspection lists).
    size: Option<usize>,
}

/// The schema's shape, as far as pricing needs it.
#[derive(Debug, Default)]
pub struct CostModel {
    types: HashMap<String, HashMap<String, FieldInfo>>,
}

/// What the analysis found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Analysis {
    pub cost: usize,
    pub aliases: usize,
    pub root_fields: usize,
    pub introspection: bool,
    /// `__typename` was given arguments (async-graphql does not check them).
    pub typename_arguments: bool,
}

fn bottom(ty: &Type) -> (String, bool) {
    match &ty.base {
        BaseType::Named(n) => (n.to_string(), false),
        BaseType::List(inner) => (bottom(inner).0, true),
    }
}

fn add_types(types: &mut HashMap<String, HashMap<String, FieldInfo>>, sdl: &str) -> Counts {
    // (types, fields, arguments, enum values, input fields): for the introspection sizes.
    let (mut n_types, mut n_fields, mut n_args, mut n_values, mut n_inputs) = (0, 0, 0, 0, 0);
    let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
        return Counts::default();
    };
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else { continue };
        n_types += 1;
        let fields = match &t.node.kind {
            TypeKind::Object(o) => &o.fields,
            TypeKind::Interface(i) => &i.fields,
            TypeKind::Enum(e) => {
                n_values += e.values.len();
                continue;
            }
            TypeKind::InputObject(i) => {
                n_inputs += i.fields.len();
                continue;
            }
            _ => continue,
        };
        let map = types.entry(t.node.name.node.to_string()).or_default();
        for f in fields {
            n_fields += 1;
            n_args += f.node.arguments.len();
            let (ty, list) = bottom(&f.node.ty.node);
            let paged = f
                .node
                .arguments
                .iter()
                .any(|a| a.node.name.node == "first" || a.node.name.node == "last");
            map.insert(
                f.node.name.node.to_string(),
                FieldInfo {
                    ty,
                    list,
                    paged,
                    size: None,
                },
            );
        }
    }
    Counts {
        types: n_types,
        fields: n_fields,
        args: n_args,
        enum_values: n_values,
        input_fields: n_inputs,
    }
}

/// What a schema has, for the introspection sizes.
#[derive(Default)]
struct Counts {
    types: usize,
    fields: usize,
    args: usize,
    enum_values: usize,
    input_fields: usize,
}

impl CostModel {
    /// The model of a schema, from its SDL.
    pub fn new(sdl: &str) -> Self {
        let mut types = HashMap::new();
        let n = add_types(&mut types, sdl);
        add_types(&mut types, INTROSPECTION_SDL);
        // Built-in scalars and the introspection types are types too. `types` returns every
        // type, so a type's lists are priced at their average over all of them: the total is
        // what the schema has.
        let all_types = n.types + 5 + 8;
        let per_type = |total: usize| total.div_ceil(all_types).max(1);
        let per_field = n.args.div_ceil(n.fields.max(1)).max(1);
        let sizes = [
            (("__Schema", "types"), all_types),
            (("__Schema", "directives"), 8),
            (("__Type", "fields"), per_type(n.fields)),
            (("__Type", "interfaces"), 2),
            (("__Type", "possibleTypes"), 4),
            (("__Type", "enumValues"), per_type(n.enum_values)),
            (("__Type", "inputFields"), per_type(n.input_fields)),
            (("__Field", "args"), per_field),
            (("__Directive", "args"), 2),
            (("__Directive", "locations"), 4),
        ];
        for ((ty, field), n) in sizes {
            if let Some(f) = types.get_mut(ty).and_then(|t| t.get_mut(field)) {
                f.size = Some(n);
            }
        }
        Self { types }
    }

    /// Analyses the operation a request runs (every operation, when it cannot be told which).
    pub fn analyse(&self, doc: &ExecutableDocument, operation: Option<&str>, variables: &Variables) -> Analysis {
        let mut walk = Walk {
            model: self,
            doc,
            variables,
            fragments: HashMap::new(),
            introspection: false,
            typename_arguments: false,
        };
        let ops: Vec<&OperationDefinition> = match (&doc.operations, operation) {
            (DocumentOperations::Single(op), _) => vec![&op.node],
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|o| &o.node).into_iter().collect(),
            (DocumentOperations::Multiple(ops), None) => ops.values().map(|o| &o.node).collect(),
        };
        let mut result = Analysis::default();
        for op in ops {
            let root = match op.ty {
                OperationType::Query => "Query",
                OperationType::Mutation => "Mutation",
                OperationType::Subscription => "Subscription",
            };
            let tally = walk.set(&op.selection_set.node, root);
            result.cost = result.cost.max(tally.cost);
            result.aliases = result.aliases.max(tally.aliases);
            result.root_fields = result.root_fields.max(tally.fields);
        }
        result.introspection = walk.introspection;
        result.typename_arguments = walk.typename_arguments;
        result
    }
}

#[derive(Clone, Copy, Default)]
struct Tally {
    cost: usize,
    aliases: usize,
    /// Fields directly in the set (fragments' fields included).
    fields: usize,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.cost = self.cost.saturating_add(other.cost);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.fields = self.fields.saturating_add(other.fields);
    }
}

struct Walk<'a> {
    model: &'a CostModel,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Fragments priced so far; `None` while one is being priced (a cycle costs nothing more:
    /// validation refuses it).
    fragments: HashMap<Name, Option<Tally>>,
    introspection: bool,
    typename_arguments: bool,
}

impl Walk<'_> {
    fn set(&mut self, set: &SelectionSet, parent: &str) -> Tally {
        let mut tally = Tally::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    tally.fields = tally.fields.saturating_add(1);
                    if field.alias.is_some() {
                        tally.aliases = tally.aliases.saturating_add(1);
                    }
                    if name == "__typename" && !field.arguments.is_empty() {
                        self.typename_arguments = true;
                    }
                    if name == "__schema" || name == "__type" {
                        self.introspection = true;
                    }
                    let info = match name {
                        "__schema" => Some(FieldInfo {
                            ty: "__Schema".into(),
                            list: false,
                            paged: false,
                            size: None,
                        }),
                        "__type" => Some(FieldInfo {
                            ty: "__Type".into(),
                            list: false,
                            paged: false,
                            size: None,
                        }),
                        _ => self.model.types.get(parent).and_then(|t| t.get(name)).cloned(),
                    };
                    let variables = self.variables;
                    // An argument's value, variables filled in.
                    let arg = |n: &str| {
                        field.arguments.iter().find(|(k, _)| k.node == n).and_then(|(_, v)| {
                            v.node
                                .clone()
                                .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
                                .ok()
                        })
                    };
                    let int = |v: Value| match v {
                        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
                        _ => None,
                    };
                    let size = match &info {
                        None => 1,
                        Some(i) if i.paged => arg("first")
                            .or_else(|| arg("last"))
                            .and_then(int)
                            .unwrap_or(domain::page::DEFAULT_PAGE as usize)
                            .clamp(1, domain::page::MAX_PAGE as usize),
                        Some(i) if i.list => {
                            if let Some(n) = arg("ids").and_then(|v| match v {
                                Value::List(items) => Some(items.len()),
                                _ => None,
                            }) {
                                n.max(1)
                            } else if let Some(n) = i.size {
                                n
                            } else if parent.ends_with("Connection") {
                                // Already counted by the connection's page size.
                                1
                            } else {
                                DEFAULT_LIST
                            }
                        }
                        Some(_) => 1,
                    };
                    let child_type = info.map(|i| i.ty).unwrap_or_default();
                    let children = self.set(&field.selection_set.node, &child_type);
                    tally.cost = tally
                        .cost
                        .saturating_add(1)
                        .saturating_add(children.cost.saturating_mul(size));
                    tally.aliases = tally.aliases.saturating_add(children.aliases);
                }
                Selection::InlineFragment(f) => {
                    let ty = f
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string())
                        .unwrap_or_else(|| parent.to_owned());
                    let inner = self.set(&f.node.selection_set.node, &ty);
                    tally.add(inner);
                }
                Selection::FragmentSpread(s) => {
                    let name = &s.node.fragment_name.node;
                    let inner = match self.fragments.get(name) {
                        Some(Some(t)) => *t,
                        Some(None) => Tally::default(),
                        None => {
                            self.fragments.insert(name.clone(), None);
                            let t = match self.doc.fragments.get(name) {
                                Some(def) => {
                                    let ty = def.node.type_condition.node.on.node.to_string();
                                    self.set(&def.node.selection_set.node, &ty)
                                }
                                None => Tally::default(),
                            };
                            self.fragments.insert(name.clone(), Some(t));
                            t
                        }
                    };
                    tally.add(inner);
                }
            }
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "type Query { a: Int b: [B!]! page(first: Int, last: Int): BConnection! }
        type B { x: Int ys: [Int!]! }
        type BConnection { nodes: [B!]! }";

    fn analyse(q: &str) -> Analysis {
        let model = CostModel::new(SDL);
        let doc = async_graphql::parser::parse_query(q).unwrap();
        model.analyse(&doc, None, &Variables::default())
    }

    #[test]
    fn lists_multiply_their_children() {
        assert_eq!(analyse("{ a }").cost, 1);
        assert_eq!(analyse("{ b { x } }").cost, 1 + DEFAULT_LIST);
        assert_eq!(analyse("{ page(first: 3) { nodes { x } } }").cost, 1 + 3 * 2);
        assert_eq!(analyse("{ __typename a b: a }").cost, 3);
        assert_eq!(analyse("{ __typename a b: a }").aliases, 1);
        assert_eq!(analyse("{ __typename a b: a }").root_fields, 3);
    }

    #[test]
    fn introspection_costs_what_it_returns() {
        let a = analyse("{ __schema { types { name fields { name } } } }");
        assert!(a.introspection);
        assert!(a.cost > 10, "{a:?}");
    }

    #[test]
    fn fragments_are_priced_once_each() {
        let mut q = String::from("query { ...F0 } fragment F0 on Query { a }");
        for i in 1..200 {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i - 1, i - 1));
        }
        q = q.replace("query { ...F0 }", "query { ...F199 }");
        let a = analyse(&q);
        assert_eq!(a.cost, usize::MAX);
    }
}
