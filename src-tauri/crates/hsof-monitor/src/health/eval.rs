//! Turns endpoint payloads into per-component statuses with reasons (pure).

use serde::Serialize;

use super::model::{GpuHealth, ModelHealth, OverallHealth, PipelineHealth};
use crate::Level;

/// Limits the health endpoints are judged by (the reference's defaults live in the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthLimits {
    /// GPU memory warning / critical, percent.
    pub gpu_memory_pct: (f64, f64),
    /// GPU temperature warning / critical, °C.
    pub gpu_temperature_c: (f64, f64),
    /// Model error rate warning / critical, percent.
    pub model_error_rate_pct: (f64, f64),
    /// Inference latency warning / critical, ms.
    pub inference_latency_ms: (f64, f64),
}

impl Default for HealthLimits {
    fn default() -> Self {
        Self {
            gpu_memory_pct: (80.0, 95.0),
            gpu_temperature_c: (80.0, 90.0),
            model_error_rate_pct: (5.0, 10.0),
            inference_latency_ms: (100.0, 500.0),
        }
    }
}

/// One component's state and why.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ComponentHealth {
    /// `service`, `gpu`, `model` or `pipeline`.
    pub name: String,
    /// Its level.
    pub level: Level,
    /// Why, in one line.
    pub reason: String,
}

/// What an endpoint gave: its payload, or why there is none.
pub type Parsed<T> = Result<T, String>;

fn grade(v: f64, (warn, crit): (f64, f64)) -> Level {
    if v >= crit {
        Level::Critical
    } else if v >= warn {
        Level::Warning
    } else {
        Level::Healthy
    }
}

fn unknown(name: &str, why: &str) -> ComponentHealth {
    ComponentHealth { name: name.into(), level: Level::Unknown, reason: why.into() }
}

/// The service's own overall verdict.
pub fn service_component(overall: &Parsed<OverallHealth>) -> ComponentHealth {
    match overall {
        Ok(o) => {
            let level = Level::parse(&o.overall_status);
            let notes: Vec<String> = o
                .components
                .iter()
                .filter(|(_, c)| Level::parse(&c.status) != Level::Healthy)
                .map(|(k, c)| format!("{k} {}: {}", c.status, c.message))
                .collect();
            let reason =
                if notes.is_empty() { format!("service reports {}", o.overall_status) } else { notes.join("; ") };
            ComponentHealth { name: "service".into(), level, reason }
        }
        Err(e) => unknown("service", e),
    }
}

/// GPUs judged against memory and temperature limits; an unavailable GPU is critical.
pub fn gpu_component(gpu: &Parsed<GpuHealth>, l: &HealthLimits) -> ComponentHealth {
    let g = match gpu {
        Ok(g) => g,
        Err(e) => return unknown("gpu", e),
    };
    if g.gpus.is_empty() {
        return ComponentHealth {
            name: "gpu".into(),
            level: Level::Critical,
            reason: "the service reports no GPU".into(),
        };
    }
    let mut worst = (Level::Healthy, format!("{} GPU(s) within limits", g.gpus.len()));
    for d in &g.gpus {
        let checks = [
            (if d.available { Level::Healthy } else { Level::Critical }, format!("GPU {} unavailable", d.device_id)),
            (
                grade(d.memory_percentage, l.gpu_memory_pct),
                format!("GPU {} memory {:.0} %", d.device_id, d.memory_percentage),
            ),
            (
                grade(d.temperature_celsius, l.gpu_temperature_c),
                format!("GPU {} at {:.0} °C", d.device_id, d.temperature_celsius),
            ),
        ];
        for (lvl, why) in checks {
            if lvl > worst.0 {
                worst = (lvl, why);
            }
        }
    }
    ComponentHealth { name: "gpu".into(), level: worst.0, reason: worst.1 }
}

/// The metamodel: loaded, ready, error rate and latency.
pub fn model_component(model: &Parsed<ModelHealth>, l: &HealthLimits) -> ComponentHealth {
    let m = match model {
        Ok(m) => m,
        Err(e) => return unknown("model", e),
    };
    let pct = m.error_rate * 100.0;
    let checks = [
        (if m.metamodel_loaded { Level::Healthy } else { Level::Critical }, "metamodel not loaded".to_string()),
        (if m.inference_ready { Level::Healthy } else { Level::Critical }, "inference not ready".to_string()),
        (grade(pct, l.model_error_rate_pct), format!("error rate {pct:.1} %")),
        (grade(m.average_inference_ms, l.inference_latency_ms), format!("inference {:.0} ms", m.average_inference_ms)),
    ];
    let (level, reason) =
        checks.into_iter().fold((Level::Healthy, String::new()), |acc, c| if c.0 > acc.0 { c } else { acc });
    let reason = if level == Level::Healthy {
        format!(
            "{} ready, error rate {pct:.1} %, {:.0} ms",
            m.metamodel_version.as_deref().unwrap_or("metamodel"),
            m.average_inference_ms
        )
    } else {
        reason
    };
    ComponentHealth { name: "model".into(), level, reason }
}

/// The three stages and their dependencies; anything down is critical.
pub fn pipeline_component(p: &Parsed<PipelineHealth>) -> ComponentHealth {
    let p = match p {
        Ok(p) => p,
        Err(e) => return unknown("pipeline", e),
    };
    let down: Vec<&str> = [
        (p.stage1_operational, "stage 1 (filter)"),
        (p.stage2_operational, "stage 2 (tree search)"),
        (p.stage3_operational, "stage 3 (evaluation)"),
        (p.database_connected, "database"),
        (p.redis_connected, "redis"),
        (p.filesystem_accessible, "filesystem"),
    ]
    .iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, n)| *n)
    .collect();
    if down.is_empty() {
        ComponentHealth {
            name: "pipeline".into(),
            level: Level::Healthy,
            reason: "all three stages and their stores operational".into(),
        }
    } else {
        ComponentHealth {
            name: "pipeline".into(),
            level: Level::Critical,
            reason: format!("down: {}", down.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::model::GpuReading;

    fn gpu(mem: f64, temp: f64) -> GpuHealth {
        GpuHealth {
            gpu_count: 1,
            gpus: vec![GpuReading {
                device_id: 0,
                available: true,
                memory_used_gb: 1.0,
                memory_total_gb: 2.0,
                memory_percentage: mem,
                temperature_celsius: temp,
                utilization_percent: 50.0,
                power_watts: 200.0,
            }],
        }
    }

    #[test]
    fn gpu_limits_grade_memory_and_temperature() {
        let l = HealthLimits::default();
        assert_eq!(gpu_component(&Ok(gpu(50.0, 60.0)), &l).level, Level::Healthy);
        let w = gpu_component(&Ok(gpu(85.0, 60.0)), &l);
        assert_eq!((w.level, w.reason.as_str()), (Level::Warning, "GPU 0 memory 85 %"));
        let c = gpu_component(&Ok(gpu(85.0, 91.0)), &l);
        assert_eq!((c.level, c.reason.as_str()), (Level::Critical, "GPU 0 at 91 °C"));
        assert_eq!(gpu_component(&Err("bad json".into()), &l).level, Level::Unknown);
    }

    #[test]
    fn model_error_rate_is_a_fraction() {
        let m = ModelHealth {
            metamodel_loaded: true,
            metamodel_version: Some("v3".into()),
            inference_ready: true,
            last_inference_time: None,
            average_inference_ms: 40.0,
            error_rate: 0.07,
        };
        let c = model_component(&Ok(m), &HealthLimits::default());
        assert_eq!((c.level, c.reason.as_str()), (Level::Warning, "error rate 7.0 %"));
    }

    #[test]
    fn pipeline_names_what_is_down() {
        let p = PipelineHealth {
            stage1_operational: true,
            stage2_operational: false,
            stage3_operational: true,
            database_connected: true,
            redis_connected: false,
            filesystem_accessible: true,
        };
        let c = pipeline_component(&Ok(p));
        assert_eq!((c.level, c.reason.as_str()), (Level::Critical, "down: stage 2 (tree search), redis"));
    }
}
