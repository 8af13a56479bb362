//! The JSON form of parameters (serde), natural but for the lossy corners the module
//! documentation of [`crate::params`] lists.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use super::value::{ParamValue, Parameters, insert_entry};

fn serialize_float<S: Serializer>(value: f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(value)
    } else if value.is_nan() {
        serializer.serialize_str("nan")
    } else if value > 0.0 {
        serializer.serialize_str("inf")
    } else {
        serializer.serialize_str("-inf")
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamValue::None => serializer.serialize_unit(),
            ParamValue::Bool(b) => serializer.serialize_bool(*b),
            ParamValue::Int(digits) => {
                if let Ok(small) = digits.parse::<i64>() {
                    serializer.serialize_i64(small)
                } else if let Ok(large) = digits.parse::<u64>() {
                    serializer.serialize_u64(large)
                } else {
                    serialize_float(digits.parse::<f64>().unwrap_or(f64::NAN), serializer)
                }
            }
            ParamValue::Float(f) => serialize_float(*f, serializer),
            ParamValue::Str(s) => serializer.serialize_str(s),
            ParamValue::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            ParamValue::Dict(entries) => serialize_entries(entries, serializer),
        }
    }
}

fn serialize_entries<S: Serializer>(
    entries: &[(String, ParamValue)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(entries.len()))?;
    for (key, value) in entries {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

impl Serialize for Parameters {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_entries(&self.entries, serializer)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = ParamValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null, a boolean, a number, a string, a list or a map")
    }

    fn visit_unit<E: de::Error>(self) -> Result<ParamValue, E> {
        Ok(ParamValue::None)
    }

    fn visit_none<E: de::Error>(self) -> Result<ParamValue, E> {
        Ok(ParamValue::None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<ParamValue, D::Error> {
        ParamValue::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
        Ok(ParamValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
        Ok(ParamValue::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
        Ok(ParamValue::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<ParamValue, E> {
        Ok(ParamValue::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(ParamValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ParamValue, A::Error> {
        visit_entries(map).map(ParamValue::Dict)
    }
}

fn visit_entries<'de, A: MapAccess<'de>>(mut map: A) -> Result<Vec<(String, ParamValue)>, A::Error> {
    let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
    while let Some((key, value)) = map.next_entry::<String, ParamValue>()? {
        insert_entry(&mut entries, key, value);
    }
    Ok(entries)
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ParametersVisitor;

impl<'de> Visitor<'de> for ParametersVisitor {
    type Value = Parameters;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of parameter names to values")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Parameters, A::Error> {
        visit_entries(map).map(|entries| Parameters { entries })
    }
}

impl<'de> Deserialize<'de> for Parameters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ParametersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use crate::params::test_support::{float, int, string};
    use crate::params::{ParamValue, Parameters};

    // --- JSON -----------------------------------------------------------------------------

    #[test]
    fn json_round_trips_in_order() {
        let json = r#"{"z":1,"a":[true,null,"s",2.5,-3],"m":{"y":1,"b":{"k":[]}}}"#;
        let params: Parameters = serde_json::from_str(json).unwrap();
        assert_eq!(params.get("z"), Some(&int("1")));
        assert_eq!(
            params.get("a"),
            Some(&ParamValue::List(vec![
                ParamValue::Bool(true),
                ParamValue::None,
                string("s"),
                float(2.5),
                int("-3"),
            ]))
        );
        assert_eq!(serde_json::to_string(&params).unwrap(), json);
    }

    #[test]
    fn json_integers_and_floats_stay_apart() {
        let value: ParamValue = serde_json::from_str("1").unwrap();
        assert_eq!(value, int("1"));
        let value: ParamValue = serde_json::from_str("1.0").unwrap();
        assert_eq!(value, float(1.0));
        let value: ParamValue = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(value, int("18446744073709551615"));
        assert_eq!(serde_json::to_string(&float(1.0)).unwrap(), "1.0");
    }

    #[test]
    fn json_documented_lossy_corners() {
        let huge = int("123456789012345678901234567890");
        assert_eq!(serde_json::to_string(&huge).unwrap(), "1.2345678901234568e+29");
        assert_eq!(serde_json::to_string(&float(f64::NAN)).unwrap(), "\"nan\"");
        assert_eq!(serde_json::to_string(&float(f64::INFINITY)).unwrap(), "\"inf\"");
        assert_eq!(serde_json::to_string(&float(f64::NEG_INFINITY)).unwrap(), "\"-inf\"");
        let back: ParamValue = serde_json::from_str("\"nan\"").unwrap();
        assert_eq!(back, string("nan"));
    }

    #[test]
    fn json_duplicate_keys_keep_the_last_value_in_the_first_place() {
        let params: Parameters = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        let order: Vec<_> = params.into_iter().collect();
        assert_eq!(order, vec![("a".to_owned(), int("3")), ("b".to_owned(), int("2"))]);
    }

    #[test]
    fn json_parameters_must_be_an_object() {
        assert!(serde_json::from_str::<Parameters>("[1]").is_err());
    }
}
