"""ringwatch: experiments stage."""
