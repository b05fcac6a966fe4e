//! The SFP+ cages' part of `/interface/ethernet/monitor`: the `sfp-*` fields
//! (module inventory and digital optical monitoring).
//!
//! The second cage is empty and reports only `sfp-module-present=false`; the
//! others hold a 10G module whose readings wander slowly with uptime. The
//! reference leaves the API form of the DOM values unverified (the CLI shows
//! `38C`, `-4.3dBm`), so RouterOS 6 serves most of them with their units and
//! RouterOS 7 as plain numbers, and a client must read both.

use super::format::boolean;
use super::synth::{hash, wander};
use super::{RouterView, SimRow, push};

/// Whether cage `cage` (0-based) holds a module: every cage but the second.
pub fn holds_module(cage: usize) -> bool {
    cage != 1
}

/// A module's inventory (EEPROM) data.
struct Module {
    vendor: &'static str,
    part: &'static str,
    revision: &'static str,
    /// Nanometres.
    wavelength: u64,
    /// Received power around which the reading wanders, in thousandths of a dBm below 0.
    rx_milli_dbm: u64,
}

/// The modules the cages hold, by cage number (cycling).
const MODULES: [Module; 3] = [
    Module {
        vendor: "MikroTik",
        part: "S+31DLC10D",
        revision: "1.0",
        wavelength: 1310,
        rx_milli_dbm: 4_300,
    },
    Module {
        vendor: "FS",
        part: "SFP-10GSR-85",
        revision: "A",
        wavelength: 850,
        rx_milli_dbm: 2_900,
    },
    Module {
        vendor: "FINISAR CORP.",
        part: "FTLX1471D3BCL",
        revision: "A",
        wavelength: 1310,
        rx_milli_dbm: 7_100,
    },
];

/// `value` thousandths as a decimal (`-4300` → `-4.3`, `3291` → `3.291`).
fn thousandths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let text = format!("{sign}{}.{:03}", abs / 1_000, abs % 1_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Appends the `sfp-*` fields of cage `cage` of the router in `view`.
pub fn push_fields(r: &mut SimRow, view: &RouterView<'_>, cage: usize) {
    let v6 = !view.personality.is_v7();
    push(r, "sfp-module-present", boolean(holds_module(cage)));
    if !holds_module(cage) {
        return;
    }
    let module = &MODULES[cage % MODULES.len()];
    let seed = hash(&[view.index as u64, 0x5F9, cage as u64]);
    // RouterOS 6 keeps the CLI units on most readings (not the supply voltage).
    let unit = |value: String, unit: &str| if v6 { value + unit } else { value };
    let milli = |base: u64, spread: u64, salt: u64| {
        wander(base, spread, view.uptime, 600, seed ^ salt) as i64
    };
    let fields = [
        ("sfp-rx-loss", boolean(false).to_owned()),
        ("sfp-tx-fault", boolean(false).to_owned()),
        ("sfp-type", "SFP/SFP+/SFP28".to_owned()),
        ("sfp-connector-type", "LC".to_owned()),
        ("sfp-vendor-name", module.vendor.to_owned()),
        ("sfp-vendor-part-number", module.part.to_owned()),
        ("sfp-vendor-revision", module.revision.to_owned()),
        ("sfp-vendor-serial", format!("S{:08X}", seed >> 32)),
        (
            "sfp-manufacturing-date",
            format!("2{}-0{}-1{}", seed % 5, 1 + seed % 9, seed % 10),
        ),
        ("sfp-wavelength", unit(module.wavelength.to_string(), "nm")),
        ("sfp-temperature", unit((milli(38, 2, 1)).to_string(), "C")),
        ("sfp-supply-voltage", thousandths(milli(3_290, 20, 2))),
        (
            "sfp-tx-bias-current",
            unit(milli(31, 3, 3).to_string(), "mA"),
        ),
        (
            "sfp-tx-power",
            unit(thousandths(-milli(2_100, 300, 4)), "dBm"),
        ),
        (
            "sfp-rx-power",
            unit(thousandths(-milli(module.rx_milli_dbm, 400, 5)), "dBm"),
        ),
    ];
    for (key, value) in fields {
        push(r, key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, text};

    fn fields(f: &Fixture, cage: usize) -> SimRow {
        let mut r = Vec::new();
        push_fields(&mut r, &f.view(0, 1_000), cage);
        r
    }

    #[test]
    fn empty_cage_reports_only_absence() {
        let r = fields(&Fixture::v7(), 1);
        assert_eq!(r.len(), 1);
        assert_eq!(text(&r, "sfp-module-present"), Some("false"));
    }

    #[test]
    fn v6_readings_carry_units_and_v7_are_plain() {
        let v6 = fields(&Fixture::v6(), 0);
        let v7 = fields(&Fixture::v7(), 0);
        assert_eq!(v7.len(), 16);
        assert_eq!(text(&v7, "sfp-module-present"), Some("true"));
        for (key, unit) in [
            ("sfp-temperature", "C"),
            ("sfp-tx-bias-current", "mA"),
            ("sfp-tx-power", "dBm"),
            ("sfp-rx-power", "dBm"),
            ("sfp-wavelength", "nm"),
        ] {
            let with = text(&v6, key).unwrap_or_default();
            let plain = text(&v7, key).unwrap_or_default();
            assert_eq!(with.strip_suffix(unit), Some(plain), "{key}");
            assert!(plain.parse::<f64>().is_ok(), "{key}={plain}");
        }
        let rx: f64 = text(&v7, "sfp-rx-power")
            .and_then(|v| v.parse().ok())
            .unwrap_or_default();
        assert!((-4.7..=-3.9).contains(&rx), "{rx}");
        assert_eq!(
            text(&v6, "sfp-supply-voltage"),
            text(&v7, "sfp-supply-voltage")
        );
        assert_eq!(
            text(&fields(&Fixture::v7(), 2), "sfp-vendor-name"),
            Some("FINISAR CORP.")
        );
    }

    #[test]
    fn decimals() {
        assert_eq!(thousandths(-4_300), "-4.3");
        assert_eq!(thousandths(3_291), "3.291");
        assert_eq!(thousandths(-2_000), "-2");
        assert_eq!(thousandths(0), "0");
    }
}
