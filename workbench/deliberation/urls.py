from __future__ import annotations

from workbench.deliberation.urls_facilitator import urlpatterns as facilitator_urls
from workbench.deliberation.urls_participant import urlpatterns as participant_urls

app_name = "deliberation"

urlpatterns = [*facilitator_urls, *participant_urls]
