use super::*;
use serde_json::json;

fn t(s: &str) -> PType {
    PType::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn parses_and_prints_the_bolt_types() {
    for s in [
        "String",
        "String[1]",
        "String[1, 10]",
        "Integer",
        "Integer[0, 65535]",
        "Boolean",
        "Optional[String]",
        "Enum['install', 'status']",
        "Array[String]",
        "Hash",
        "Pattern[/^[a-z]+$/]",
        "Variant[Integer, Enum['all']]",
    ] {
        assert_eq!(t(s).to_string(), s);
    }
    assert_eq!(t("Enum[a,b]").to_string(), "Enum['a', 'b']");
    assert!(PType::parse("Strin").is_err());
    assert!(PType::parse("Optional[String").is_err());
    assert!(PType::parse("Pattern[/(/]").is_err());
}

#[test]
fn checks_values_with_reasons() {
    assert_eq!(t("String").check(&json!("x")), None);
    assert!(
        t("Integer")
            .check(&json!("x"))
            .unwrap()
            .contains("expects Integer, got String")
    );
    assert!(
        t("Enum[a,b]")
            .check(&json!("c"))
            .unwrap()
            .contains("not one of a, b")
    );
    assert_eq!(t("Optional[Integer]").check(&Value::Null), None);
    assert!(t("Integer[1,5]").check(&json!(9)).is_some());
    assert!(t("Pattern[/^a/]").check(&json!("ba")).is_some());
    assert_eq!(t("Variant[Integer, Boolean]").check(&json!(true)), None);
    assert!(
        t("Array[Integer]")
            .check(&json!([1, "x"]))
            .unwrap()
            .contains("item 1")
    );
    assert!(t("String[2]").check(&json!("a")).is_some());
}

#[test]
fn coerces_command_line_text_by_type() {
    assert_eq!(t("Integer").coerce("42"), json!(42));
    assert_eq!(t("Boolean").coerce("true"), json!(true));
    assert_eq!(t("String").coerce("42"), json!("42"));
    assert_eq!(t("Array[String]").coerce("[\"a\"]"), json!(["a"]));
    assert_eq!(t("Variant[Integer, String]").coerce("x"), json!("x"));
    assert_eq!(t("Optional[Integer]").coerce("7"), json!(7));
}

#[test]
fn parses_every_type_bolt_metadata_allows() {
    for s in [
        "Undef",
        "Scalar",
        "NotUndef[String]",
        "Sensitive[String[1]]",
        "Optional[Sensitive[String]]",
        "Array[String, 1]",
        "Array[Integer, 1, 3]",
        "Tuple[String, Integer]",
        "Tuple[String, 1, 4]",
        "Hash[String, Integer]",
        "Hash[String[1], Any, 1, 2]",
        "Struct[{'name' => String, Optional['port'] => Integer}]",
    ] {
        assert_eq!(t(s).to_string(), s);
    }
    assert_eq!(t("Data").to_string(), "Any");
    assert_eq!(t("Float[0.5, 2.0]").to_string(), "Float");
    assert_eq!(
        t("Struct[{name => String, port => Optional[Integer]}]").to_string(),
        "Struct[{'name' => String, 'port' => Optional[Integer]}]"
    );
    for bad in [
        "Sensitive[",
        "Hash[String]",
        "Struct[{a String}]",
        "Array[1, String]",
        "Undefx",
    ] {
        assert!(PType::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn checks_the_new_types() {
    assert_eq!(t("Undef").check(&Value::Null), None);
    assert!(t("Undef").check(&json!("x")).is_some());
    assert!(t("NotUndef").check(&Value::Null).is_some());
    assert!(t("Sensitive[String]").is_sensitive());
    assert!(t("Optional[Sensitive[String]]").is_sensitive());
    assert!(!t("String").is_sensitive());
    assert!(t("Sensitive[String[2]]").check(&json!("a")).is_some());
    assert!(t("Array[String, 1]").check(&json!([])).is_some());
    assert!(
        t("Array[String, 1, 2]")
            .check(&json!(["a", "b", "c"]))
            .is_some()
    );
    assert_eq!(t("Tuple[String, Integer]").check(&json!(["a", 1])), None);
    assert!(
        t("Tuple[String, Integer]")
            .check(&json!([1, "a"]))
            .is_some()
    );
    assert!(t("Tuple[String, Integer]").check(&json!(["a"])).is_some());
    assert!(
        t("Hash[String, Integer]")
            .check(&json!({"a": "b"}))
            .is_some()
    );
    let s = t("Struct[{name => String, Optional[port] => Integer}]");
    assert_eq!(s.check(&json!({"name": "x"})), None);
    assert!(
        s.check(&json!({"port": 1}))
            .unwrap()
            .contains("\"name\" is missing")
    );
    assert!(s.check(&json!({"name": "x", "colour": 1})).is_some());
    assert!(s.check(&json!({"name": "x", "port": "22"})).is_some());
    assert!(t("Scalar").check(&json!([1])).is_some());
    assert!(t("Optional[Undef]").is_optional());
}

proptest::proptest! {
    /// Any text of type-like tokens parses or is refused with a reason, never a
    /// panic; what parses prints as text that parses to the same type.
    #[test]
    fn type_text_never_panics_and_round_trips(parts in proptest::collection::vec(
        proptest::sample::select(vec![
            "String", "Integer", "Float", "Boolean", "Optional", "Sensitive", "Undef",
            "NotUndef", "Array", "Tuple", "Hash", "Struct", "Enum", "Variant", "Pattern",
            "Scalar", "Data", "Any", "[", "]", "{", "}", ",", " ", "=>", "1", "-2", "default",
            "'a'", "\"b\"", "c", "/x+/", "/", "é", "Optional[", "'k' =>",
        ]),
        0..14,
    )) {
        let text = parts.concat();
        if let Ok(t) = PType::parse(&text) {
            let shown = t.to_string();
            let again = PType::parse(&shown);
            proptest::prop_assert!(again.is_ok(), "{text:?} shown as {shown:?}: {again:?}");
            proptest::prop_assert_eq!(again.unwrap().to_string(), shown);
        }
    }
}
