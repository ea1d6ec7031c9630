# mod_jk_rs — build and install the httpd module.
#   make            build target/release/libmod_jk_rs.so and copy it to ./mod_jk_rs.so
#   make install    install into $(apxs -q LIBEXECDIR); on Debian/Ubuntu also jk_rs.load/jk_rs.conf
#   make test       the test suite (needs apache2, apache2-dev, libclang-dev)
APXS ?= $(shell command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null || echo /usr/local/apache2/bin/apxs)
LIBEXECDIR := $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
CARGO ?= cargo

.PHONY: all build install test clean

all: mod_jk_rs.so

build:
	APXS=$(APXS) $(CARGO) build --release

mod_jk_rs.so: build
	cp target/release/libmod_jk_rs.so mod_jk_rs.so

install: mod_jk_rs.so
	@test -n "$(LIBEXECDIR)" || { echo "apxs not found: install apache2-dev"; exit 1; }
	install -m 0644 mod_jk_rs.so $(DESTDIR)$(LIBEXECDIR)/mod_jk_rs.so
	@if [ -d $(DESTDIR)/etc/apache2/mods-available ]; then \
		install -m 0644 httpd-conf/debian/jk_rs.load $(DESTDIR)/etc/apache2/mods-available/jk_rs.load; \
		install -m 0644 httpd-conf/debian/jk_rs.conf $(DESTDIR)/etc/apache2/mods-available/jk_rs.conf; \
		echo "installed; enable with: a2enmod jk_rs"; \
	fi

test:
	$(CARGO) test --release

clean:
	$(CARGO) clean
	rm -f mod_jk_rs.so
