package console

// HoldHashing takes every sign-in hashing slot, as that many sign-ins in
// progress would, until release: the tests see the bound without racing
// real sign-ins against each other.
func HoldHashing(c *Console) (release func()) {
	for range cap(c.throttle.hashing) {
		c.throttle.hashing <- struct{}{}
	}
	return func() {
		for range cap(c.throttle.hashing) {
			<-c.throttle.hashing
		}
	}
}
