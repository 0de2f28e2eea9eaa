package main

import "time"

// defaultPointsExpiryEvery is how often serve expires loyalty points.
const defaultPointsExpiryEvery = 24 * time.Hour
