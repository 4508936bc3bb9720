"""Training and development (培训与发展, policy 五): training needs from problems common to several
departments, training plans with attendance, and per-person development notes."""
