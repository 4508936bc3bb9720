"""Early warnings (预警, policy 五): rules with thresholds raise warnings to managers."""
