# mod_jk_rs — build, install and switch the httpd module.
#   make              build target/release/libmod_jk_rs.so -> ./mod_jk_rs.so (stripped; the symbols
#                     stay in ./mod_jk_rs.so.debug, linked by .gnu_debuglink)
#   make install      install into $(LIBEXECDIR); on Debian/Ubuntu also mods-available/jk_rs.{load,conf}
#   make switch       Debian/Ubuntu: disable mod_jk, enable mod_jk_rs, check the configuration
#   make uninstall    Debian/Ubuntu: disable mod_jk_rs, enable mod_jk again (if installed), remove our files
#   make test         the README's test command
# Variables: APXS (httpd's apxs), LIBEXECDIR (where modules go), APACHE_CONFDIR (Debian's
# /etc/apache2), SO (the module file to install), DESTDIR (staging root for packagers).
APXS ?= $(shell command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null || echo /usr/local/apache2/bin/apxs)
LIBEXECDIR ?= $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
APACHE_CONFDIR ?= /etc/apache2
CARGO ?= cargo
SO ?= mod_jk_rs.so

.PHONY: all build install switch uninstall test clean

all: mod_jk_rs.so

# The same build as `cargo build --release` and the scripts (build.rs finds apxs the same way),
# so switching between them does not rebuild.
build:
	$(CARGO) build --release

mod_jk_rs.so: build
	cp target/release/libmod_jk_rs.so mod_jk_rs.so
	objcopy --only-keep-debug mod_jk_rs.so mod_jk_rs.so.debug
	strip --strip-unneeded mod_jk_rs.so
	objcopy --add-gnu-debuglink=mod_jk_rs.so.debug mod_jk_rs.so

install: $(SO)
	@test -n "$(LIBEXECDIR)" || { echo "apxs not found: install apache2-dev (or set LIBEXECDIR)"; exit 1; }
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0644 $(SO) $(DESTDIR)$(LIBEXECDIR)/mod_jk_rs.so
	strip --strip-unneeded $(DESTDIR)$(LIBEXECDIR)/mod_jk_rs.so
	@if [ -d $(DESTDIR)$(APACHE_CONFDIR)/mods-available ]; then \
		sed "s|@MODULE@|$(LIBEXECDIR)/mod_jk_rs.so|" httpd-conf/debian/jk_rs.load \
			> $(DESTDIR)$(APACHE_CONFDIR)/mods-available/jk_rs.load; \
		install -m 0644 httpd-conf/debian/jk_rs.conf $(DESTDIR)$(APACHE_CONFDIR)/mods-available/jk_rs.conf; \
		echo "installed; switch from mod_jk with: make switch (or: a2dismod jk; a2enmod jk_rs)"; \
	fi

# a2enmod/a2dismod honour APACHE_CONFDIR, so the switch can be tried on a copy of /etc/apache2.
switch:
	@if [ -e $(APACHE_CONFDIR)/mods-enabled/jk.load ]; then APACHE_CONFDIR=$(APACHE_CONFDIR) a2dismod -q jk; fi
	APACHE_CONFDIR=$(APACHE_CONFDIR) a2enmod -q jk_rs
	APACHE_CONFDIR=$(APACHE_CONFDIR) apache2ctl -t
	@echo "mod_jk_rs is enabled with your jk.conf; reload httpd: systemctl reload apache2"

uninstall:
	@if [ -e $(APACHE_CONFDIR)/mods-enabled/jk_rs.load ]; then APACHE_CONFDIR=$(APACHE_CONFDIR) a2dismod -q jk_rs; fi
	rm -f $(DESTDIR)$(APACHE_CONFDIR)/mods-available/jk_rs.load $(DESTDIR)$(APACHE_CONFDIR)/mods-available/jk_rs.conf
	rm -f $(DESTDIR)$(LIBEXECDIR)/mod_jk_rs.so
	@if [ -e $(APACHE_CONFDIR)/mods-available/jk.load ]; then \
		APACHE_CONFDIR=$(APACHE_CONFDIR) a2enmod -q jk && APACHE_CONFDIR=$(APACHE_CONFDIR) apache2ctl -t && \
		echo "mod_jk is enabled again; reload httpd: systemctl reload apache2"; \
	fi

test:
	scripts/setup.sh && $(CARGO) test --no-fail-fast

clean:
	$(CARGO) clean
	rm -f mod_jk_rs.so mod_jk_rs.so.debug
