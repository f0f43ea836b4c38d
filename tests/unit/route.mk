# Which cores a received frame is for (net/route.c), against lwIP's protocol headers (the
# sources are fetched by the build: the test waits for them).
unit_route_SRCS := net/route.c
unit_route_CFLAGS := -isystem third_party/lwip/src/include -Inet -Inet/port
$(BUILD)/unit/test_route: | $(LWIP_STAMP)
