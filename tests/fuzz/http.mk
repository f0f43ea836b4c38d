# httpd's request parser (examples/httpd/http.c), pure C.
fuzz_http_SRCS := examples/httpd/http.c
fuzz_http_CFLAGS := -Iexamples/httpd
