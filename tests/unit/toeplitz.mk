# The RSS Toeplitz hash (net/toeplitz.h): header-only, so nothing to link; the header is named
# here so that a change to it rebuilds the test.
unit_toeplitz_SRCS :=
$(BUILD)/unit/test_toeplitz: net/toeplitz.h
